//! `hauski index` and `hauski search` on a generated vault of 200+ notes with
//! known facts in known notes, asked about in other words.

use crate::common;

use std::path::Path;

use crate::common::{hauski_with_data, run_ok};

/// (file, note text, a question phrased differently from the note).
const FACTS: &[(&str, &str, &str)] = &[
    (
        "wifi.md",
        "# Guest network\nThe guest wifi password is blue-falcon-42.",
        "What is the wireless key for visitors?",
    ),
    (
        "garage.md",
        "# Garage\nThe garage door code is 7319.",
        "Which number opens the garage?",
    ),
    (
        "anna.md",
        "# Anna\nAnna's birthday is on the 14th of March.",
        "When was Anna born?",
    ),
    (
        "plants.md",
        "# Watering\nThe fern in the hallway needs water every Sunday.",
        "How often should I water the hallway plant?",
    ),
    (
        "car.md",
        "# Car\nThe car's next inspection is due in October.",
        "When does the vehicle need its check-up?",
    ),
    (
        "boiler.md",
        "# Heating\nThe boiler service company is Hartmann Heizung, phone 0441 123456.",
        "Who services our heating system?",
    ),
    (
        "vet.md",
        "# Pets\nThe cat's vet is Dr. Meyer on Lindenstrasse.",
        "Which animal doctor do we take the cat to?",
    ),
    (
        "recycling.md",
        "# Bins\nThe yellow recycling bin is collected every second Thursday.",
        "When is the plastic rubbish picked up?",
    ),
    (
        "insurance.md",
        "# Insurance\nThe household insurance policy number is HX-55812.",
        "What's our home contents policy ID?",
    ),
    (
        "doctor.md",
        "# Family doctor\nDr. Schulz's practice opens at 8 am.",
        "What time does our GP open?",
    ),
    (
        "school.md",
        "# School\nLena's school ends at 1:15 pm on Fridays.",
        "When does Lena finish classes on Friday?",
    ),
    (
        "keys.md",
        "# Keys\nThe spare house key is with the neighbour Mrs. Koch.",
        "Who has our extra door key?",
    ),
    (
        "fuses.md",
        "# Electricity\nThe fuse box is in the basement behind the shelves.",
        "Where is the circuit breaker panel?",
    ),
    (
        "water.md",
        "# Water\nThe water meter reading in January was 1432 cubic metres.",
        "What did the water meter show at the start of the year?",
    ),
    (
        "bread.md",
        "# Bread\nThe sourdough starter is fed with rye flour twice a week.",
        "What do we feed the bread culture?",
    ),
    (
        "bike.md",
        "# Bikes\nThe bike lock combination is 2580.",
        "What are the digits for the bicycle lock?",
    ),
    (
        "printer.md",
        "# Printer\nThe printer uses HP 305 ink cartridges.",
        "Which cartridges does the printer need?",
    ),
    (
        "holiday.md",
        "# Summer trip\nThe summer holiday flight to Lisbon leaves on July 3rd.",
        "When do we fly to Portugal?",
    ),
    (
        "grandma.md",
        "# Grandma\nGrandma Ilse likes lavender tea and crossword puzzles.",
        "What does granny enjoy?",
    ),
    (
        "gym.md",
        "# Fitness\nThe gym membership renews on the first of September.",
        "When does the fitness club contract renew?",
    ),
    (
        "allergy.md",
        "# Health\nTom is allergic to hazelnuts.",
        "Which nut must Tom avoid?",
    ),
    (
        "router.md",
        "# Internet\nThe router admin page is at 192.168.178.1.",
        "What address do I use to configure the modem?",
    ),
    (
        "chimney.md",
        "# Chimney\nThe chimney sweep comes every November.",
        "In which month is the flue cleaned?",
    ),
    (
        "paint.md",
        "# Paint\nThe living room walls are painted in Alpina Sanftes Grau.",
        "What colour did we use on the lounge walls?",
    ),
    (
        "tax.md",
        "# Taxes\nThe tax advisor is Frau Becker; the deadline is the end of July.",
        "Who helps us with the tax return?",
    ),
    (
        "dishwasher.md",
        "# Dishwasher\nThe dishwasher salt is refilled every two months.",
        "How often does the dish machine need salt?",
    ),
    (
        "piano.md",
        "# Music\nLena's piano lesson is on Wednesdays at 4 pm.",
        "When does Lena have her music lesson?",
    ),
    (
        "parking.md",
        "# Parking\nOur parking permit number is P-2291 for zone B.",
        "What is the residents' parking permit?",
    ),
    (
        "solar.md",
        "# Solar\nThe solar panels produced 4200 kWh last year.",
        "How much electricity did the roof panels make in the previous year?",
    ),
    (
        "passport.md",
        "# Documents\nThe passports are kept in the blue folder in the study.",
        "Where are our travel documents stored?",
    ),
    (
        "freezer.md",
        "# Freezer\nThe freezer should be defrosted every spring.",
        "When do we thaw the deep freeze?",
    ),
    (
        "library.md",
        "# Library\nThe library books are due back on the 20th.",
        "When must the borrowed books be returned?",
    ),
];

const TOPICS: &[&str] = &[
    "Recipe",
    "Book notes",
    "Meeting",
    "Travel diary",
    "Workout",
    "Garden plan",
    "Movie list",
    "Project idea",
    "Podcast notes",
    "Shopping",
];
const WORDS: &[&str] = &[
    "onion",
    "chapter",
    "agenda",
    "museum",
    "squats",
    "tomatoes",
    "thriller",
    "prototype",
    "episode",
    "apples",
    "pepper",
    "author",
    "budget",
    "harbour",
    "running",
    "compost",
    "comedy",
    "sketch",
    "interview",
    "cheese",
    "garlic",
    "plot",
    "deadline",
    "mountain",
    "stretching",
    "seeds",
    "director",
    "feedback",
    "guest",
    "bread rolls",
];

/// Writes the vault: the fact notes plus 180 filler notes, in subfolders.
fn write_vault(dir: &Path) {
    for (file, text, _) in FACTS {
        std::fs::write(dir.join(file), format!("---\ntags: [home]\n---\n{text}\n")).expect("write fact");
    }
    for n in 0..180 {
        let topic = TOPICS[n % TOPICS.len()];
        let folder = dir.join(topic.to_lowercase().replace(' ', "-"));
        std::fs::create_dir_all(&folder).expect("mkdir");
        let w = |i: usize| WORDS[(n * 7 + i * 3) % WORDS.len()];
        let text = format!(
            "# {topic} {n}\nToday I wrote about {} and {}.\n\n## Details\nThe {} was better than the {}, and next time I want more {}.\n",
            w(0),
            w(1),
            w(2),
            w(3),
            w(4)
        );
        std::fs::write(folder.join(format!("note-{n:03}.md")), text).expect("write filler");
    }
}

fn index(data: &Path, vault: &Path) -> serde_json::Value {
    let out = run_ok(hauski_with_data(data).args(["index", "add", "--json"]).arg(vault));
    serde_json::from_str(&out).expect("JSON report")
}

fn top3(data: &Path, question: &str) -> Vec<serde_json::Value> {
    let out = run_ok(hauski_with_data(data).args(["search", "-k", "3", "--json", question]));
    serde_json::from_str(&out).expect("JSON hits")
}

fn found_in(hits: &[serde_json::Value], file: &str) -> bool {
    hits.iter().any(|h| {
        h["path"]
            .as_str()
            .is_some_and(|p| p.ends_with(&format!("/{file}")))
    })
}

#[test]
fn finds_the_right_note_for_paraphrased_questions_and_follows_edits() {
    let data = tempfile::tempdir().expect("tmp");
    let vault = tempfile::tempdir().expect("tmp");
    write_vault(vault.path());

    let report = index(data.path(), vault.path());
    assert_eq!(report["added"], FACTS.len() + 180, "{report}");

    let mut misses = Vec::new();
    for (file, _, question) in FACTS {
        if !found_in(&top3(data.path(), question), file) {
            misses.push(format!("{question} → expected {file}"));
        }
    }
    let hit_rate = 1.0 - misses.len() as f64 / FACTS.len() as f64;
    assert!(
        hit_rate >= 0.9,
        "top-3 hit rate {hit_rate:.2}; misses: {misses:#?}"
    );

    // A second run skips every unchanged note.
    let again = index(data.path(), vault.path());
    assert_eq!(again["unchanged"], FACTS.len() + 180, "{again}");
    assert_eq!(again["chunks"], 0);

    // Editing a note changes what search answers.
    std::fs::write(
        vault.path().join("garage.md"),
        "# Garage\nThe garage door code is now 4455.\n",
    )
    .expect("edit");
    let edited = index(data.path(), vault.path());
    assert_eq!(edited["updated"], 1, "{edited}");
    let hits = top3(data.path(), "garage door code");
    let garage: Vec<&str> = hits
        .iter()
        .filter(|h| h["path"].as_str().is_some_and(|p| p.ends_with("/garage.md")))
        .filter_map(|h| h["text"].as_str())
        .collect();
    assert_eq!(garage.len(), 1, "{hits:?}");
    assert!(
        garage[0].contains("4455") && !garage[0].contains("7319"),
        "{garage:?}"
    );

    // Deleting a note removes its chunks.
    std::fs::remove_file(vault.path().join("wifi.md")).expect("delete");
    let deleted = index(data.path(), vault.path());
    assert_eq!(deleted["removed"], 1, "{deleted}");
    assert!(!found_in(&top3(data.path(), "guest wifi password"), "wifi.md"));
}

#[test]
fn unreadable_notes_are_skipped_with_a_reason_and_nothing_is_lost() {
    let data = tempfile::tempdir().expect("tmp");
    let vault = tempfile::tempdir().expect("tmp");
    std::fs::write(
        vault.path().join("good.md"),
        "# Good\nThe bakery opens at seven.\n",
    )
    .expect("write");
    std::fs::write(vault.path().join("binary.md"), [0u8, 159, 146, 150, 0, 1, 2]).expect("write");
    std::fs::write(vault.path().join("latin1.md"), b"# Caf\xe9\nna\xefve text\n").expect("write");
    let big = vec![b'a'; 50 * 1024 * 1024];
    std::fs::write(vault.path().join("huge.md"), big).expect("write");

    let report = index(data.path(), vault.path());
    assert_eq!(report["added"], 1, "{report}");
    let skipped = report["skipped"].as_array().expect("skipped");
    let reason = |name: &str| {
        skipped
            .iter()
            .find(|s| s[0].as_str().is_some_and(|p| p.ends_with(name)))
            .and_then(|s| s[1].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(reason("binary.md").contains("binary"), "{skipped:?}");
    assert!(reason("latin1.md").contains("UTF-8"), "{skipped:?}");
    assert!(reason("huge.md").contains("limit"), "{skipped:?}");
    assert!(found_in(
        &top3(data.path(), "when does the bakery open"),
        "good.md"
    ));

    let status = run_ok(hauski_with_data(data.path()).args(["index", "status", "--json"]));
    let status: serde_json::Value = serde_json::from_str(&status).expect("JSON");
    assert_eq!(status["notes"], 1);
}

/// Needs Gemma 3 270M: the tiny test model cannot read a note.
#[test]
fn answers_use_the_notes_and_name_their_source() {
    common::require_gemma();
    let data = tempfile::tempdir().expect("tmp");
    let vault = tempfile::tempdir().expect("tmp");
    for (file, text, _) in &FACTS[..6] {
        std::fs::write(vault.path().join(file), format!("{text}\n")).expect("write");
    }
    index(data.path(), vault.path());

    let out = run_ok(hauski_with_data(data.path()).args([
        "ask",
        "--json",
        "--temperature",
        "0",
        "What is the code for the garage door?",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert!(v["text"].as_str().is_some_and(|t| t.contains("7319")), "{v}");
    let first_source = v["sources"][0].as_str().unwrap_or_default();
    assert!(first_source.ends_with("/garage.md › Garage"), "{v}");

    // The spoken path retrieves the same way.
    let dir = tempfile::tempdir().expect("tmp");
    let question = dir.path().join("q.wav");
    run_ok(
        common::hauski()
            .args(["say", "What is the code for the garage door?", "-o"])
            .arg(&question),
    );
    let out = run_ok(
        hauski_with_data(data.path())
            .args(["converse", "--json", "--temperature", "0", "--input"])
            .arg(&question)
            .arg("--output")
            .arg(dir.path().join("a.wav")),
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert!(
        v["sources"].as_array().is_some_and(|s| s
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.contains("garage.md")))),
        "{v}"
    );
    assert!(v["answer"].as_str().is_some_and(|t| t.contains("7319")), "{v}");
}

/// A `hauski index watch` on `data`'s indexed folders, past its catch-up pass.
fn start_watcher(data: &Path) -> (common::Running, common::Lines) {
    let mut watcher = common::Running::new(
        hauski_with_data(data)
            .args(["index", "watch"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("watcher starts"),
    );
    let lines = watcher.stdout_lines();
    // Synchronise on what the watcher says, not on time.
    lines.wait_for("the watcher to be ready", WATCHER_LIMIT, |l| {
        l.starts_with("watching")
    });
    (watcher, lines)
}

/// Generous for a slow machine: loading the embedder and a pass on a few notes.
const WATCHER_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

#[test]
fn the_watcher_reindexes_a_changed_note_while_search_keeps_working() {
    let data = tempfile::tempdir().expect("tmp");
    let vault = tempfile::tempdir().expect("tmp");
    std::fs::write(
        vault.path().join("boiler.md"),
        "# Heating\nThe boiler was serviced in May.\n",
    )
    .expect("write");
    index(data.path(), vault.path());
    let (_watcher, lines) = start_watcher(data.path());

    // Search works while the watcher holds the index writer.
    assert!(found_in(&top3(data.path(), "boiler service"), "boiler.md"));

    std::fs::write(
        vault.path().join("bees.md"),
        "# Garden\nThe beehive is behind the apple tree.\n",
    )
    .expect("write");
    lines.wait_for("the new note to be indexed", WATCHER_LIMIT, |l| {
        l.contains("1 added")
    });
    assert!(found_in(&top3(data.path(), "where are the bees kept"), "bees.md"));
}

/// Reading notes (a search, an editor showing one, the watcher's own pass)
/// changes nothing and must not wake the watcher; it used to re-index its
/// own reads forever.
#[test]
fn the_watcher_stays_quiet_until_a_note_really_changes() {
    let data = tempfile::tempdir().expect("tmp");
    let vault = tempfile::tempdir().expect("tmp");
    for (file, text, _) in &FACTS[..4] {
        std::fs::write(vault.path().join(file), format!("{text}\n")).expect("write");
    }
    index(data.path(), vault.path());
    let (_watcher, lines) = start_watcher(data.path());
    // How long "left alone" is: several times the watcher's 400 ms quiet
    // period plus a pass, so a pass triggered by reads would show.
    let window = std::time::Duration::from_secs(3);

    let said = lines.during(window);
    assert!(said.is_empty(), "the watcher, left alone, said {said:?}");

    for entry in std::fs::read_dir(vault.path()).expect("vault") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read note");
        assert!(!text.is_empty());
    }
    assert!(found_in(&top3(data.path(), FACTS[0].2), FACTS[0].0));
    let said = lines.during(window);
    assert!(said.is_empty(), "reading the notes made the watcher say {said:?}");

    let (file, text, _) = FACTS[1];
    std::fs::write(vault.path().join(file), format!("{text}\nAnd one line more.\n")).expect("edit");
    let line = lines
        .next_within(WATCHER_LIMIT)
        .expect("the watcher reports the edit");
    assert!(
        line.ends_with(": 0 added, 1 updated, 0 removed"),
        "one edit, one pass: {line}"
    );
    let said = lines.during(window);
    assert!(said.is_empty(), "after the edit's pass the watcher said {said:?}");
}

#[test]
fn refresh_brings_every_indexed_folder_up_to_date() {
    let data = common::fresh_dir("refresh-data");
    let nothing = run_ok(hauski_with_data(&data).args(["index", "refresh"]));
    assert!(nothing.contains("nothing is indexed yet"), "{nothing}");
    let vault = common::fresh_dir("refresh-vault");
    write_vault(&vault);
    index(&data, &vault);
    let boiler = std::fs::read_dir(&vault)
        .expect("vault")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .expect("a note");
    let mut text = std::fs::read_to_string(&boiler).expect("note");
    text.push_str("\n\nOne more line, written after indexing.\n");
    std::fs::write(&boiler, text).expect("edit the note");
    let out = run_ok(hauski_with_data(&data).args(["index", "refresh", "--json"]));
    let folders: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(folders.as_array().map(Vec::len), Some(1), "{folders}");
    let report = &folders[0]["report"];
    assert_eq!(report["updated"], 1, "{folders}");
    assert_eq!(report["added"], 0, "{folders}");
    assert!(
        folders[0]["folder"]
            .as_str()
            .is_some_and(|f| f.ends_with(&*vault.file_name().expect("name").to_string_lossy())),
        "{folders}"
    );
}
