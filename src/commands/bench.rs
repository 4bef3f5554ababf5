use anyhow::{Result, bail};

use crate::cli::BenchArgs;
use crate::engines::App;

pub fn run(_app: &App, _args: &BenchArgs) -> Result<()> {
    bail!("not yet")
}
