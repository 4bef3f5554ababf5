//! HausKI's end-to-end tests, one binary: each module runs the real `hauski`
//! binary (or its library) against the real engines, models, servers and
//! clients. One binary rather than one per file: the shared helpers compile
//! and the test binary links once (see ARCHITECTURE.md, "Testing"). The
//! real-time voice-loop tests are a binary of their own (`tests/realtime`),
//! so that nothing but another voice test ever runs beside them.

#[path = "../support/mod.rs"]
mod common;

mod api_answers_from_notes;
mod api_serves_openai_clients;
mod api_under_load;
mod bad_input_is_explained;
mod converse_answers_aloud;
mod editor_plugins;
mod editors_and_wake_cli;
mod everyday_phrasings_through_asr;
mod installs_as_an_appliance;
mod messengers_in_the_sandbox;
mod models_pull_resumes_and_verifies;
mod remembers_what_it_is_told;
mod searches_the_owners_notes;
mod skills_audit_is_signed;
mod speaks_and_reads_back;
mod spoken_commands_survive_near_misses;
mod structured_output_and_tools;
mod systemd_units;
mod transcribes_reference_audio;
mod uploads_people_send;
mod wake_word_quality;
mod wyoming_serves_home_assistant;
