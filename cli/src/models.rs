//! `shoplook models export-nnef`: each model of a directory exported as the NNEF archive the
//! phone builds load (no ONNX parser in the app; the graph is stored decluttered, so loading
//! is faster too). See core's `model` module.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use shoplook_cli::error::{CliError, CliResult};
use shoplook_core::{ModelFiles, export_nnef, manifest::ModelManifest, model::NNEF_EXTENSION};

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Export models as NNEF archives (`<name>.nnef.tar` next to a copy of `<name>.json`).
    ExportNnef(ExportArgs),
}

#[derive(Args)]
pub struct ExportArgs {
    /// Manifest names to export (default: every manifest in the model directory).
    names: Vec<String>,
    /// Model directory (default: $SHOPLOOK_MODELS or the models/ folder of this checkout).
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Where the archives go (default: the model directory itself, where `Engine::from_dir`
    /// prefers them to the ONNX files).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(command: ModelsCommand) -> CliResult<()> {
    match command {
        ModelsCommand::ExportNnef(args) => export(args),
    }
}

fn export(args: ExportArgs) -> CliResult<()> {
    let dir = args.models.unwrap_or_else(shoplook_http::default_model_dir);
    let out = args.out.unwrap_or_else(|| dir.clone());
    let names = if args.names.is_empty() {
        manifest_names(&dir)?
    } else {
        args.names
    };
    std::fs::create_dir_all(&out).map_err(|source| CliError::CreateDir {
        path: out.clone(),
        source,
    })?;
    for name in names {
        let started = std::time::Instant::now();
        let files = ModelFiles::from_dir(&dir, &name)?;
        if shoplook_core::model::is_nnef_archive(&files.onnx) {
            return Err(CliError::AlreadyNnef {
                name,
                dir: dir.clone(),
            });
        }
        let archive = export_nnef(&files)?;
        let target = out.join(format!("{name}.{NNEF_EXTENSION}"));
        write(&target, &archive)?;
        if out != dir {
            write(&out.join(format!("{name}.json")), &files.manifest_json)?;
        }
        println!(
            "{name}: {} ({} bytes, ONNX {} bytes) in {} ms",
            target.display(),
            archive.len(),
            files.onnx.len(),
            started.elapsed().as_millis()
        );
    }
    Ok(())
}

/// The names of the model manifests in `dir` (`<name>.json` files that parse as manifests).
fn manifest_names(dir: &Path) -> CliResult<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|source| CliError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let is_manifest = std::fs::read(&path)
            .ok()
            .is_some_and(|b| ModelManifest::from_json(&b).is_ok());
        if is_manifest {
            names.push(name.to_string());
        }
    }
    names.sort();
    if names.is_empty() {
        return Err(CliError::NoManifests {
            dir: dir.to_path_buf(),
        });
    }
    Ok(names)
}

fn write(path: &Path, bytes: &[u8]) -> CliResult<()> {
    std::fs::write(path, bytes).map_err(|source| CliError::Write {
        path: path.to_path_buf(),
        source,
    })
}
