//! The hybrid store on real folders: both rankers, replacing and deleting,
//! filters, graph dumps reloaded and replaced, wrong dimensions; searches after
//! edits with the exact scan and with the graph.

use super::*;
use crate::retrieval::test_vectors::random_unit;

fn unit(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn doc(id: &str, text: &str, v: &[f32], path: &str) -> Document {
    Document {
        id: id.into(),
        text: text.into(),
        embedding: unit(v),
        fields: BTreeMap::from([("path".to_string(), path.to_string())]),
    }
}

/// Options that put every store, however small, on the HNSW graph.
const GRAPH: StoreOptions = StoreOptions { exact_scan_limit: 0 };

fn query<'a>(text: &'a str, v: &'a [f32], k: usize) -> Query<'a> {
    Query {
        text,
        embedding: v,
        k,
        filter: super::super::Filter::default(),
    }
}

#[test]
fn finds_by_words_and_by_meaning_and_survives_reopening() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = HybridStore::open(dir.path(), 3).expect("opens");
    store
        .upsert(vec![
            doc(
                "a",
                "the plumber comes on tuesday",
                &[1.0, 0.0, 0.0],
                "home/plumber.md",
            ),
            doc(
                "b",
                "pasta with leeks and cream",
                &[0.0, 1.0, 0.0],
                "food/pasta.md",
            ),
            doc(
                "c",
                "the boiler needs service",
                &[0.9, 0.1, 0.0],
                "home/boiler.md",
            ),
        ])
        .expect("upsert");
    store.persist().expect("persist");

    let by_words = store
        .search(&query("leeks", &[0.0, 0.0, 1.0], 1))
        .expect("search");
    assert_eq!(by_words[0].id, "b");
    let meaning = unit(&[0.0, 1.0, 0.1]);
    let by_meaning = store.search(&query("dinner", &meaning, 1)).expect("search");
    assert_eq!(by_meaning[0].id, "b");

    drop(store);
    let reopened = HybridStore::open(dir.path(), 3).expect("reopens");
    assert_eq!(reopened.stats().documents, 3);
    let hit = reopened
        .search(&query("plumber", &unit(&[1.0, 0.0, 0.0]), 1))
        .expect("search");
    assert_eq!(hit[0].id, "a");
}

#[test]
fn upsert_replaces_and_delete_removes() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = HybridStore::open(dir.path(), 3).expect("opens");
    store
        .upsert(vec![doc("a", "old text about cats", &[1.0, 0.0, 0.0], "x.md")])
        .expect("upsert");
    store
        .upsert(vec![doc("a", "new text about dogs", &[0.0, 1.0, 0.0], "x.md")])
        .expect("upsert");
    store.persist().expect("persist");
    assert_eq!(store.stats().documents, 1);
    assert!(
        store
            .search(&query("cats", &[0.0, 0.0, 1.0], 5))
            .expect("search")
            .iter()
            .all(|h| h.text.contains("dogs"))
    );
    assert_eq!(store.ids_where("path", "x.md"), vec!["a".to_string()]);
    assert_eq!(store.delete(&["a".to_string()]).expect("delete"), 1);
    store.persist().expect("persist");
    assert!(
        store
            .search(&query("dogs", &unit(&[0.0, 1.0, 0.0]), 5))
            .expect("search")
            .is_empty()
    );
}

#[test]
fn filters_restrict_both_rankers() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = HybridStore::open(dir.path(), 3).expect("opens");
    store
        .upsert(vec![
            doc("a", "tuesday plumber", &[1.0, 0.0, 0.0], "home/a.md"),
            doc("b", "tuesday football", &[1.0, 0.1, 0.0], "sport/b.md"),
        ])
        .expect("upsert");
    store.persist().expect("persist");
    let mut q = query("tuesday", &[1.0, 0.0, 0.0], 5);
    q.filter.path_prefix = Some("sport/".into());
    let hits = store.search(&q).expect("search");
    assert_eq!(hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), vec!["b"]);
}

fn dumps(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("graph-") && n.ends_with(".hnsw.graph"))
        .collect();
    names.sort();
    names
}

#[test]
fn the_graph_is_dumped_reloaded_and_replaced() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = HybridStore::open_with(dir.path(), 3, GRAPH).expect("opens");
    store
        .upsert(vec![doc("a", "plumber tuesday", &[1.0, 0.0, 0.0], "a.md")])
        .expect("upsert");
    store.persist().expect("persist");
    let first = dumps(dir.path());
    assert_eq!(first.len(), 1);
    store
        .upsert(vec![doc("b", "pasta leeks", &[0.0, 1.0, 0.0], "b.md")])
        .expect("upsert");
    store.persist().expect("persist");
    let second = dumps(dir.path());
    assert_eq!(second.len(), 1, "the old dump is removed");
    assert_ne!(first, second);
    drop(store);

    let mut reopened = HybridStore::open_with(dir.path(), 3, GRAPH).expect("reopens from the dump");
    assert_eq!(reopened.semantic_index(), "hnsw");
    assert_eq!(reopened.stats().documents, 2);
    assert_eq!(
        reopened.ann_search(&unit(&[0.0, 1.0, 0.0]), 1),
        vec!["b".to_string()]
    );
    // A reloaded graph keeps growing.
    reopened
        .upsert(vec![doc("c", "garden bees", &[0.0, 0.0, 1.0], "c.md")])
        .expect("upsert");
    assert_eq!(
        reopened.ann_search(&unit(&[0.0, 0.1, 1.0]), 1),
        vec!["c".to_string()]
    );
    drop(reopened);

    // A damaged dump costs a rebuild, never the documents.
    std::fs::write(dir.path().join(&second[0]), b"garbage").expect("damage");
    let rebuilt = HybridStore::open_with(dir.path(), 3, GRAPH).expect("reopens by rebuilding");
    assert_eq!(
        rebuilt.stats().documents,
        2,
        "the unpersisted upsert of c is not there"
    );
    assert_eq!(
        rebuilt.ann_search(&unit(&[1.0, 0.0, 0.0]), 1),
        vec!["a".to_string()]
    );
    drop(rebuilt);

    // Opened with the exact scan, the store needs no graph and keeps none.
    let mut scanned = HybridStore::open(dir.path(), 3).expect("reopens for the scan");
    assert_ne!(scanned.semantic_index(), "hnsw");
    assert_eq!(
        scanned.ann_search(&unit(&[0.0, 1.0, 0.1]), 1),
        vec!["b".to_string()]
    );
    scanned
        .upsert(vec![doc("c", "garden bees", &[0.0, 0.0, 1.0], "c.md")])
        .expect("upsert");
    scanned.persist().expect("persist");
    assert!(dumps(dir.path()).is_empty(), "no graph dumped");
}

#[test]
fn wrong_dimensions_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = HybridStore::open(dir.path(), 3).expect("opens");
    let err = store
        .upsert(vec![doc("a", "x", &[1.0, 0.0], "x.md")])
        .expect_err("refused");
    assert!(matches!(err, RetrievalError::Dimensions { .. }));
}

#[test]
fn after_edits_and_deletes_the_scan_finds_exactly_the_live_documents() {
    let recall = after_edits_and_deletes(StoreOptions::default());
    assert!(recall == 1.0, "the scan is exact, recall@10 {recall}");
}

#[test]
fn after_edits_and_deletes_the_graph_finds_the_live_documents_and_never_the_dead() {
    let recall = after_edits_and_deletes(GRAPH);
    assert!(recall >= 0.95, "recall@10 after edits {recall}");
}

/// Edits and deletes a tenth of 600 documents, checks that no search returns
/// a deleted one and that edited ones are found by their new meaning; the
/// recall@10 against exact search over the live documents.
fn after_edits_and_deletes(options: StoreOptions) -> f64 {
    let dims = 16;
    let mut seed = 7;
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = HybridStore::open_with(dir.path(), dims, options).expect("opens");
    let mut vectors: BTreeMap<String, Vec<f32>> = (0..600)
        .map(|i| (format!("d{i}"), random_unit(&mut seed, dims)))
        .collect();
    store
        .upsert(vectors.iter().map(|(id, v)| doc(id, "note", v, "n.md")).collect())
        .expect("upsert");
    store.persist().expect("persist");
    // A tenth replaced with new meanings, a tenth deleted: dead points, too
    // few for a rebuild.
    let edited: Vec<String> = (0..600).step_by(10).map(|i| format!("d{i}")).collect();
    let deleted: Vec<String> = (5..600).step_by(10).map(|i| format!("d{i}")).collect();
    let replacements: Vec<Document> = edited
        .iter()
        .map(|id| {
            let v = random_unit(&mut seed, dims);
            vectors.insert(id.clone(), v.clone());
            doc(id, "note", &v, "n.md")
        })
        .collect();
    store.upsert(replacements).expect("upsert");
    assert_eq!(store.delete(&deleted).expect("delete"), deleted.len());
    for id in &deleted {
        vectors.remove(id);
    }
    store.persist().expect("persist");
    assert!(store.dead > 0, "the edits left dead points");

    let mut found_of_exact = 0;
    let queries = 50;
    for _ in 0..queries {
        let q = random_unit(&mut seed, dims);
        let ann = store.ann_search(&q, 10);
        assert_eq!(ann.len(), 10, "{ann:?}");
        assert!(
            !ann.iter().any(|id| deleted.contains(id)),
            "a deleted document came back: {ann:?}"
        );
        let mut exact: Vec<(f32, &String)> = vectors
            .iter()
            .map(|(id, v)| (v.iter().zip(&q).map(|(a, b)| a * b).sum(), id))
            .collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        found_of_exact += exact.iter().take(10).filter(|(_, id)| ann.contains(id)).count();
    }
    // An edited document is found by its new meaning, not its old one.
    for id in &edited {
        let ann = store.ann_search(&vectors[id], 1);
        assert_eq!(ann.first(), Some(id));
    }
    found_of_exact as f64 / (queries * 10) as f64
}

#[test]
fn a_store_that_grows_past_the_scan_limit_gets_a_graph_of_every_document() {
    let dir = tempfile::tempdir().expect("tmp");
    let small = StoreOptions { exact_scan_limit: 3 };
    let mut store = HybridStore::open_with(dir.path(), 3, small).expect("opens");
    store
        .upsert(vec![
            doc("a", "plumber", &[1.0, 0.0, 0.0], "a.md"),
            doc("b", "pasta", &[0.0, 1.0, 0.0], "b.md"),
        ])
        .expect("upsert");
    store.persist().expect("persist");
    assert_ne!(store.semantic_index(), "hnsw");
    store
        .upsert(vec![
            doc("c", "bees", &[0.0, 0.0, 1.0], "c.md"),
            doc("d", "leeks", &[0.0, 1.0, 1.0], "d.md"),
        ])
        .expect("upsert");
    store.persist().expect("persist");
    assert_eq!(store.semantic_index(), "hnsw");
    assert_eq!(
        store.ann_search(&unit(&[1.0, 0.1, 0.0]), 1),
        vec!["a".to_string()]
    );
    // Shrunk back under the limit, it scans again and keeps no graph.
    store.delete(&["c".to_string(), "d".to_string()]).expect("delete");
    store.persist().expect("persist");
    assert_ne!(store.semantic_index(), "hnsw");
    assert!(dumps(dir.path()).is_empty());
    assert_eq!(
        store.ann_search(&unit(&[0.1, 1.0, 0.0]), 1),
        vec!["b".to_string()]
    );
}
