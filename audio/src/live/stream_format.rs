//! The one raw format both edges ask PipeWire for: f32 mono at a given rate.
//! PipeWire's adapter converts from whatever the node really has.

use pipewire::spa;
use spa::pod::Pod;

use crate::AudioError;

/// A serialised `EnumFormat` pod for f32 mono at `rate`.
pub fn mono_f32(rate: u32) -> Result<Vec<u8>, AudioError> {
    let mut info = spa::param::audio::AudioInfoRaw::new();
    info.set_format(spa::param::audio::AudioFormat::F32LE);
    info.set_rate(rate);
    info.set_channels(1);
    let mut position = [0; spa::param::audio::MAX_CHANNELS];
    position[0] = spa::sys::SPA_AUDIO_CHANNEL_MONO;
    info.set_position(position);
    let object = spa::pod::Object {
        type_: spa::utils::SpaTypes::ObjectParamFormat.as_raw(),
        id: spa::param::ParamType::EnumFormat.as_raw(),
        properties: info.into(),
    };
    let (cursor, _) = spa::pod::serialize::PodSerializer::serialize(
        std::io::Cursor::new(Vec::new()),
        &spa::pod::Value::Object(object),
    )
    .map_err(|e| AudioError::Device(format!("cannot describe the audio format: {e:?}")))?;
    let bytes = cursor.into_inner();
    if Pod::from_bytes(&bytes).is_none() {
        return Err(AudioError::Device("the audio format pod is malformed".into()));
    }
    Ok(bytes)
}
