//! The hybrid store on real folders: both rankers, replacing and deleting,
//! filters, graph dumps reloaded and replaced, wrong dimensions.

use super::*;

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
    let mut store = HybridStore::open(dir.path(), 3).expect("opens");
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

    let mut reopened = HybridStore::open(dir.path(), 3).expect("reopens from the dump");
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
    let rebuilt = HybridStore::open(dir.path(), 3).expect("reopens by rebuilding");
    assert_eq!(
        rebuilt.stats().documents,
        2,
        "the unpersisted upsert of c is not there"
    );
    assert_eq!(
        rebuilt.ann_search(&unit(&[1.0, 0.0, 0.0]), 1),
        vec!["a".to_string()]
    );
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

/// A reproducible point on the unit sphere.
fn random_unit(seed: &mut u64, dims: usize) -> Vec<f32> {
    let v: Vec<f32> = (0..dims)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((*seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        })
        .collect();
    unit(&v)
}

#[test]
fn after_edits_and_deletes_searches_find_the_live_documents_and_never_the_dead() {
    let dims = 16;
    let mut seed = 7;
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = HybridStore::open(dir.path(), dims).expect("opens");
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
    let recall = found_of_exact as f64 / (queries * 10) as f64;
    assert!(recall >= 0.95, "recall@10 after edits {recall}");
    // An edited document is found by its new meaning, not its old one.
    for id in &edited {
        let ann = store.ann_search(&vectors[id], 1);
        assert_eq!(ann.first(), Some(id));
    }
}
