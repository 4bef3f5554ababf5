//! `hauski config init | check`.

use anyhow::{Context, Result, bail};

use crate::cli::{ConfigAction, GlobalArgs};
use hauski::config::Config;
use hauski::config::init::{self, Outcome};

pub fn run(global: &GlobalArgs, action: ConfigAction) -> Result<()> {
    match action {
        ConfigAction::Init { dir } => {
            let dir = dir
                .or_else(|| global.config.clone())
                .or_else(init::user_dir)
                .context(
                    "no config directory ($XDG_CONFIG_HOME or $HOME); name one: hauski config init DIR",
                )?;
            for outcome in init::init(&dir)? {
                match outcome {
                    Outcome::Written(path) => println!("wrote {}", path.display()),
                    Outcome::Kept(path) => println!("kept  {} (already there)", path.display()),
                }
            }
            println!("every default is commented out: uncomment what you change, then `hauski config check`");
            Ok(())
        }
        ConfigAction::Check { dir } => {
            let dir = dir.or_else(|| global.config.clone());
            let problems = Config::check(dir.as_deref())?;
            if problems.is_empty() {
                let config = Config::load(dir.as_deref())?;
                match &config.dir {
                    Some(d) => println!("{}: every file is valid", d.display()),
                    None => println!("no config dir: the built-in defaults are in use"),
                }
                return Ok(());
            }
            for problem in &problems {
                eprintln!("{problem}");
            }
            bail!("{} problem(s) in the config", problems.len())
        }
    }
}
