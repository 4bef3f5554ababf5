//! all-MiniLM-L6-v2 on candle: the sentence-transformers reference value,
//! batching that changes nothing, unit-length output; and the int8 ONNX graph
//! scripts/export-embedder.sh writes, on ONNX Runtime: candle's vectors within
//! quantisation's error, and the same notes found for the same questions.

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

/// The int8 graph's vectors are candle's fp32 ones within quantisation's
/// error, and an input's vector does not depend on what it is batched with.
#[test]
fn onnx_runtime_gives_candles_vectors_within_int8_error() {
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
        let similarity = cosine(a, b);
        assert!(
            similarity > 0.98,
            "{text}: cosine {similarity} between the engines"
        );
        let norm: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{text}: unit length, got {norm}");
    }
    for (text, batched) in texts.iter().zip(&ours) {
        let single = onnx.embed_one(text).expect("one");
        assert_eq!(&single, batched, "{text}: batched and alone differ");
    }
}

/// What the quantisation must not change: which note answers a question.
/// Each question has one right note, chosen by hand; both engines must pick it.
#[test]
fn both_engines_find_the_note_that_answers() {
    let notes = [
        "The plumber comes on Tuesday morning to look at the boiler.",
        "The wifi password is written under the router in the hallway.",
        "Bread rises best in the oven with only the light switched on.",
        "The cat goes to the vet on Friday for her vaccination.",
        "Piano lessons moved to Wednesday at five in the evening.",
        "The spare key is with the neighbour at number twelve.",
        "Car insurance renews in March; the broker's number is in the folder.",
        "Water the tomatoes every second day unless it rains.",
    ];
    let questions = [
        ("When is the plumber coming?", 0),
        ("What is the internet password?", 1),
        ("How do I get the dough to rise?", 2),
        ("When does the cat see the vet?", 3),
        ("What day is piano now?", 4),
        ("Who has our spare key?", 5),
        ("When does the car insurance renew?", 6),
        ("How often should the tomatoes be watered?", 7),
    ];
    let onnx = onnx_embedder();
    for (name, engine) in [("candle", embedder()), ("onnxruntime", &onnx)] {
        let notes = engine.embed(&notes).expect("notes");
        for (question, answer) in questions {
            let q = engine.embed_one(question).expect("question");
            let best = (0..notes.len())
                .max_by(|&a, &b| cosine(&q, &notes[a]).total_cmp(&cosine(&q, &notes[b])))
                .expect("notes");
            assert_eq!(best, answer, "{name}: {question:?} found note {best}");
        }
    }
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
