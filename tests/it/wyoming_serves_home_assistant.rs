//! The Wyoming server against the `wyoming` package's own client, as Home
//! Assistant uses it: describe, transcribe, synthesize, detect (also
//! streamed, as HA's pipeline sends it, with no audio-stop), and its
//! conversation stage (handle).

use crate::common;

use crate::common::server::Server;
use crate::common::{audio, espeak, hauski, padded, repo, wer, write_wav_16k};

#[test]
fn home_assistants_wyoming_client_gets_asr_tts_and_wake_words() {
    let mut cmd = hauski();
    cmd.env("HAUSKI_LLM", "tiny-random-llama");
    let server = Server::start(cmd, &[]);
    let dir = common::fresh_dir("wyoming");
    // A dialect the wake word was never trained on (assets/wakeword/hey-hauski.json).
    let wake = dir.join("wake.wav");
    write_wav_16k(
        &wake,
        &padded(&espeak("hey hauski", "en-gb-scotland", 185, 55), 1.0),
    );
    let synthesized = dir.join("synthesized.wav");
    let (host, port) = server.wyoming.rsplit_once(':').expect("host:port");
    let jfk = audio("jfk.wav");
    let args = [
        host.as_ref(),
        port.as_ref(),
        jfk.as_os_str(),
        wake.as_os_str(),
        synthesized.as_os_str(),
    ];
    let r = common::python_json("wyoming_client.py", args, &server.log());

    assert_eq!(r["info"]["asr"][0], "whisper-tiny-en-test");
    assert_eq!(r["info"]["tts"][0], "piper-joe");
    assert_eq!(r["info"]["wake"][0], "hey-hauski");
    assert_eq!(r["info"]["wake_phrases"][0], "hey hauski");

    let transcript = r["transcript"].as_str().unwrap_or_default();
    assert!(
        wer(
            "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
            transcript
        ) <= 0.05,
        "{transcript}"
    );

    assert_eq!(r["synthesis"]["width"], 2);
    assert_eq!(r["synthesis"]["channels"], 1);
    assert!(r["synthesis"]["bytes"].as_u64() > Some(20_000));
    let heard = common::transcribe(&synthesized);
    assert!(
        wer("The kitchen timer is done.", &heard) <= 0.2,
        "synthesized speech read back: {heard}"
    );

    assert_eq!(r["detect_wake"]["detected"], true, "{}", r["detect_wake"]);
    assert_eq!(r["detect_wake"]["name"], "hey-hauski");
    assert_eq!(
        r["detect_other"]["detected"], false,
        "JFK is not the wake word: {}",
        r["detect_other"]
    );
    assert!(
        r["chunk_without_start"]
            .as_str()
            .unwrap_or_default()
            .contains("before audio-start")
    );
}

#[test]
fn home_assistants_pipeline_hears_the_wake_word_mid_stream_and_gets_answers() {
    let server = Server::start(hauski(), &[]);
    let dir = common::fresh_dir("wyoming-pipeline");
    // A dialect the wake word was never trained on (assets/wakeword/hey-hauski.json).
    let wake = dir.join("wake.wav");
    write_wav_16k(
        &wake,
        &padded(&espeak("hey hauski", "en-gb-scotland", 185, 55), 0.5),
    );
    let (host, port) = server.wyoming.rsplit_once(':').expect("host:port");
    let args = [host.as_ref(), port.as_ref(), wake.as_os_str()];
    let r = common::python_json("wyoming_pipeline.py", args, &server.log());

    let wake = &r["wake"];
    assert_eq!(
        wake["detected"],
        true,
        "no detection mid-stream: {wake}\n{}",
        server.log()
    );
    assert_eq!(wake["name"], "hey-hauski");
    assert_eq!(wake["audio_stop_sent"], false);
    let after = wake["after_word_end_s"].as_f64().expect("timed");
    assert!(after < 1.0, "detection {after:.2} s after the word's end: {wake}");
    eprintln!("wyoming: detection {:.0} ms after the word's end", after * 1000.0);

    assert_eq!(r["handle_programs"][0], "hauski-conversation", "{r}");
    let answer = r["question"]["handled"].as_str().unwrap_or_default();
    assert!(
        !answer.trim().is_empty(),
        "handle gave no answer: {}",
        r["question"]
    );
    // The conversation stage is HausKI's core: a spoken command acts.
    let command = r["command"]["handled"].as_str().unwrap_or_default();
    assert!(command.to_lowercase().contains("kitchen"), "{}", r["command"]);
    let (_, profile) = common::server::get(&server.url("/audio/profile"), None);
    assert!(
        profile.contains("kueche"),
        "the profile did not switch: {profile}"
    );
    // The time comes from the clock, not the LLM: the local time Python read
    // just before or just after asking.
    let time = r["time"]["handled"].as_str().unwrap_or_default();
    let clock: Vec<String> = r["time_clock"]
        .as_array()
        .expect("clock readings")
        .iter()
        .filter_map(|t| t.as_str().map(|t| format!("It's {t}.")))
        .collect();
    assert!(clock.iter().any(|c| c == time), "{time:?} is not {clock:?}");

    // Lists: said to Home Assistant, shown by the API.
    let list = r["list"]["handled"].as_str().unwrap_or_default();
    assert_eq!(
        list, "Okay, I added oat milk to the shopping list.",
        "{}",
        r["list"]
    );
    let (_, shopping) = common::server::get(&server.url("/lists/shopping"), None);
    assert!(shopping.contains("oat milk"), "{shopping}");
    // A phrasing the fast path does not know goes to the LLM with the skills as tools.
    let by_llm = r["skill_by_llm"]["handled"].as_str().unwrap_or_default();
    assert!(
        server.log().contains("the LLM called a skill"),
        "{by_llm:?}; no skill call in the log:\n{}",
        server.log()
    );
    eprintln!("wyoming: skill by LLM answered {by_llm:?}");
    // Gemma 3 270M, held to one call by grammar, picks the timer and its length.
    assert!(
        by_llm.contains("4-minute") && by_llm.contains("timer"),
        "{by_llm:?}"
    );
}

/// This machine's first non-loopback IPv4 address: a peer that is not loopback.
fn lan_address() -> String {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .expect("hostname runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|a| a.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| !ip.is_loopback()))
        .expect("this test needs a network interface with an IPv4 address besides loopback")
        .to_string()
}

#[test]
fn wyoming_beyond_loopback_takes_only_the_allowed_networks() {
    // Without networks named, Wyoming on every interface is refused at start.
    let err = common::run_err(hauski().args([
        "serve",
        "--no-voice",
        "--listen",
        "127.0.0.1:0",
        "--wyoming",
        "0.0.0.0:0",
    ]));
    assert!(
        err.contains("wyoming.allow") && err.contains("routing.yaml"),
        "{err}"
    );

    // An owner's routing.yaml that names one network (TEST-NET-3), not this machine's.
    let config = common::fresh_dir("wyoming-allow");
    for name in ["models.yml", "profiles.yaml"] {
        std::fs::copy(repo().join(name), config.join(name)).expect("copy config");
    }
    std::fs::create_dir_all(config.join("policies")).expect("mkdir");
    std::fs::write(
        config.join("policies/routing.yaml"),
        "wyoming:\n  allow: [203.0.113.0/24]\n",
    )
    .expect("write");
    let mut cmd = hauski();
    cmd.env("HAUSKI_CONFIG", &config);
    let server = Server::start_with_wyoming(cmd, "0.0.0.0:0", &["--no-voice"]);
    let port = server.wyoming.rsplit_once(':').expect("host:port").1.to_string();
    let describe = |host: &str| -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(format!("{host}:{port}")).expect("connects");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        stream.write_all(b"{\"type\": \"describe\"}\n").expect("write");
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        // The first line is the info event's header; a refused peer reads EOF.
        while !reply.contains(&b'\n') {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&reply).into_owned()
    };
    assert!(
        describe("127.0.0.1").contains("\"info\""),
        "loopback is always allowed"
    );
    let lan = lan_address();
    assert_eq!(describe(&lan), "", "a peer at {lan} is not in 203.0.113.0/24");
    server.wait_for("the refusal in the log", || {
        server.log().contains("wyoming connection refused")
    });

    // Listening beyond loopback, the server is advertised for Home Assistant to discover.
    let found = common::python_json("zeroconf_browse.py", [&port], &server.log());
    let service = &found["found"];
    assert!(
        service["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("HausKI on ") && n.ends_with("._wyoming._tcp.local.")),
        "no _wyoming._tcp service on port {port}: {found}\n{}",
        server.log()
    );
}
