//! The rules a messenger's message passes before it is read aloud.

use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

fn message(sender: &str, room: Option<&str>, text: &str, urgency: Option<&str>) -> Message {
    Message {
        sender: sender.into(),
        room: room.map(str::to_string),
        text: text.into(),
        urgency: urgency.map(str::to_string),
    }
}

const SIGNAL: Notifier<'static> = Notifier {
    skill: "signal",
    source: Some("Signal"),
};

fn deliverer(
    policy: &str,
    minute: Arc<AtomicU32>,
) -> (Arc<Deliverer>, tokio::sync::broadcast::Receiver<Event>) {
    let bus = Bus::new();
    let events = bus.subscribe();
    let policy: MessagesPolicy = serde_yaml::from_str(policy).expect("policy");
    let now: MinuteNow = Arc::new(move || minute.load(Ordering::SeqCst));
    (Arc::new(Deliverer::new(policy, bus, now)), events)
}

fn said(events: &mut tokio::sync::broadcast::Receiver<Event>) -> Vec<Notice> {
    std::iter::from_fn(|| match events.try_recv() {
        Ok(Event::Notification(notice)) => Some(notice),
        _ => None,
    })
    .collect()
}

#[test]
fn the_host_names_the_source_and_the_policy_the_room_of_the_home() {
    let noon = Arc::new(AtomicU32::new(12 * 60));
    let (deliverer, mut events) = deliverer("adapters: {signal: {senders: [Anna], profile: kueche}}", noon);
    deliverer.deliver(SIGNAL, message("Anna", Some("Family"), "Dinner at 7?", None));
    deliverer.deliver(SIGNAL, message("Mallory", None, "Click this link", None));
    deliverer.deliver(SIGNAL, message("Anna", None, "   ", None));
    let notices = said(&mut events);
    assert_eq!(notices.len(), 1, "{notices:?}");
    let notice = &notices[0];
    assert_eq!(notice.source.as_deref(), Some("Signal"));
    assert_eq!(notice.room.as_deref(), Some("Family"));
    assert_eq!(notice.profile.as_deref(), Some("kueche"));
    assert_eq!(notice.text, "Dinner at 7?");
}

#[test]
fn quiet_hours_hold_messages_until_they_end_and_urgent_ones_pass() {
    let minute = Arc::new(AtomicU32::new(23 * 60));
    let (deliverer, mut events) = deliverer(
        "quiet_hours: {from: '22:00', to: '07:00', then: queue}",
        minute.clone(),
    );
    deliverer.deliver(SIGNAL, message("Anna", None, "Are you up?", None));
    deliverer.deliver(
        SIGNAL,
        message("Ben", None, "The basement is flooding", Some("high")),
    );
    let at_night = said(&mut events);
    assert_eq!(at_night.len(), 1);
    assert_eq!(at_night[0].sender, "Ben");
    assert!(deliverer.take_released().is_empty(), "released in quiet hours");
    minute.store(7 * 60, Ordering::SeqCst);
    let morning = deliverer.take_released();
    assert_eq!(morning.len(), 1);
    assert_eq!(morning[0].text, "Are you up?");
    assert!(deliverer.take_released().is_empty(), "said twice");
}

#[test]
fn quiet_hours_that_drop_leave_messages_unsaid() {
    let minute = Arc::new(AtomicU32::new(23 * 60));
    let (deliverer, mut events) = deliverer(
        "quiet_hours: {from: '22:00', to: '07:00', then: drop}",
        minute.clone(),
    );
    deliverer.deliver(SIGNAL, message("Anna", None, "Are you up?", None));
    minute.store(8 * 60, Ordering::SeqCst);
    assert!(said(&mut events).is_empty());
    assert!(deliverer.take_released().is_empty());
}
