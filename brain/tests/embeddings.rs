//! all-MiniLM-L6-v2 on candle: the sentence-transformers reference value,
//! batching that changes nothing, unit-length output; and the ONNX graph
//! scripts/export-embedder.sh writes, on ONNX Runtime, giving candle's vectors.

use std::path::PathBuf;
use std::sync::OnceLock;

use hauski_brain::{Embedder, cosine};

fn shared_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/models/embed/all-MiniLM-L6-v2");
    assert!(
        dir.is_dir(),
        "{} missing: ../shared must sit beside the repo",
        dir.display()
    );
    dir
}

fn embedder() -> &'static Embedder {
    static E: OnceLock<Embedder> = OnceLock::new();
    E.get_or_init(|| Embedder::load(&shared_dir()).expect("embedder loads"))
}

/// The exported graph on ONNX Runtime, which the install script put in the venv.
fn onnx_embedder() -> Embedder {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let model = root.join(".models/embed/all-MiniLM-L6-v2/model.onnx");
    assert!(
        model.is_file(),
        "{} missing: run scripts/export-embedder.sh",
        model.display()
    );
    Embedder::load_onnx(&model, &shared_dir(), 2).expect("the ONNX embedder loads")
}

#[test]
fn onnx_runtime_gives_candles_vectors() {
    let texts = [
        "A man is eating food.",
        "The plumber comes on Tuesday.",
        "Short.",
        "A much longer sentence about the garden, the tomatoes and the rain that never came this summer.",
    ];
    let onnx = onnx_embedder();
    assert_eq!((onnx.engine(), onnx.dimensions()), ("onnxruntime", 384));
    let (theirs, ours) = (
        embedder().embed(&texts).expect("candle"),
        onnx.embed(&texts).expect("onnx"),
    );
    for ((text, a), b) in texts.iter().zip(&theirs).zip(&ours) {
        let diff = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(diff < 1e-5, "{text}: the engines differ by {diff}");
    }
    let single = onnx.embed_one(texts[3]).expect("one");
    let diff = single
        .iter()
        .zip(&ours[3])
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(diff < 1e-5, "batched and alone differ by {diff}");
}

#[test]
fn matches_the_sentence_transformers_reference() {
    let e = embedder();
    assert_eq!(e.dimensions(), 384);
    let a = e.embed_one("A man is eating food.").expect("a");
    let b = e.embed_one("A man is eating a piece of bread.").expect("b");
    let sim = cosine(&a, &b);
    assert!((sim - 0.755).abs() < 0.01, "cosine {sim}");
}

#[test]
fn a_batch_gives_the_same_vectors_as_one_by_one() {
    let e = embedder();
    let texts = [
        "A man is eating food.",
        "The plumber comes on Tuesday.",
        "Short.",
        "A much longer sentence about the garden, the tomatoes and the rain that never came this summer.",
    ];
    let batch = e.embed(&texts).expect("batch");
    for (text, batched) in texts.iter().zip(&batch) {
        let single = e.embed_one(text).expect("single");
        let diff = single
            .iter()
            .zip(batched)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-5, "{text}: max difference {diff}");
        let norm: f32 = batched.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length, got {norm}");
    }
}

#[test]
fn paraphrases_are_closer_than_unrelated_sentences() {
    let e = embedder();
    let v = e
        .embed(&[
            "Where is the spare key?",
            "Who has our extra door key?",
            "The tomatoes need water.",
        ])
        .expect("embed");
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.2);
}

#[test]
fn a_missing_model_folder_names_the_file() {
    let err = Embedder::load(std::path::Path::new("/nope/minilm"))
        .err()
        .expect("missing");
    assert!(err.to_string().contains("/nope/minilm/config.json"), "{err}");
}
