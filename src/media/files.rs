//! Confinement of media file names to `media.files_dir`. A requested name is taken relative to
//! the directory; it is refused when it is absolute, when its `..` components climb above the
//! directory, or when the real location (symlinks resolved: the canonical path of the parent
//! directory, and of the file when it exists) is outside the directory. Directories are not
//! created. A symlink swapped in between this check and the engine opening the file is not
//! caught (the engine writes recordings with O_NOFOLLOW, see `wav::write_pcm16`).
//!
//! Two steps, so that the sans-I/O core never touches the file system: [`lexical`] (pure: the
//! core refuses absolute names and `..` at once) and [`resolve_within`] (symlinks resolved, run
//! by the media engine before it opens the file).

use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("no file name given")]
    Empty,
    #[error("'{0}' is an absolute path; give a name inside media.files_dir")]
    Absolute(String),
    #[error("'{0}' leaves media.files_dir")]
    Escapes(String),
    #[error("'{0}' is not a file name")]
    NotAFile(String),
    #[error("media.files_dir '{0}' is not usable: {1}")]
    FilesDir(String, String),
    #[error("'{0}': {1}")]
    Io(String, String),
}

/// `files_dir` joined with `requested` once `.` and `..` are applied, or why not (absolute,
/// climbing out, empty): no file-system access.
pub fn lexical(files_dir: &Path, requested: &str) -> Result<PathBuf, PathError> {
    if requested.is_empty() || requested.contains('\0') {
        return Err(PathError::Empty);
    }
    Ok(files_dir.join(lexically_inside(requested)?))
}

/// The real path of `file` (a [`lexical`] result under `root`), refused when symlinks lead it
/// out of `root`.
pub fn resolve_within(root: &Path, file: &Path) -> Result<PathBuf, PathError> {
    let relative = file
        .strip_prefix(root)
        .ok()
        .and_then(Path::to_str)
        .ok_or_else(|| PathError::Escapes(file.display().to_string()))?;
    confine(root, relative)
}

/// The path of `requested` inside `files_dir`, or why not.
pub fn confine(files_dir: &Path, requested: &str) -> Result<PathBuf, PathError> {
    if requested.is_empty() || requested.contains('\0') {
        return Err(PathError::Empty);
    }
    let relative = lexically_inside(requested)?;
    let root = files_dir
        .canonicalize()
        .map_err(|e| PathError::FilesDir(files_dir.display().to_string(), e.to_string()))?;
    let candidate = root.join(&relative);
    let name = candidate
        .file_name()
        .ok_or_else(|| PathError::NotAFile(requested.into()))?
        .to_owned();
    let parent = candidate.parent().unwrap_or(&root);
    let real_parent = parent
        .canonicalize()
        .map_err(|e| PathError::Io(requested.into(), e.to_string()))?;
    if !real_parent.starts_with(&root) {
        return Err(PathError::Escapes(requested.into()));
    }
    let target = real_parent.join(name);
    match std::fs::symlink_metadata(&target) {
        Ok(_) => {
            let real = target
                .canonicalize()
                .map_err(|e| PathError::Io(requested.into(), e.to_string()))?;
            if !real.starts_with(&root) {
                return Err(PathError::Escapes(requested.into()));
            }
            if real.is_dir() {
                return Err(PathError::NotAFile(requested.into()));
            }
            Ok(real)
        }
        Err(_) => Ok(target),
    }
}

/// The normal components of `requested` after `.` and `..`, or an error when it is absolute or
/// climbs above its start.
fn lexically_inside(requested: &str) -> Result<PathBuf, PathError> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in Path::new(requested).components() {
        match c {
            Component::Prefix(_) | Component::RootDir => {
                return Err(PathError::Absolute(requested.into()))
            }
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(PathError::Escapes(requested.into()));
                }
            }
            Component::Normal(p) => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(PathError::NotAFile(requested.into()));
    }
    Ok(parts.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let files = tmp.path().join("files");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(files.join("prompts")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(files.join("hello.wav"), b"x").unwrap();
        std::fs::write(outside.join("secret.wav"), b"x").unwrap();
        (tmp, files, outside)
    }

    #[test]
    fn lexical_refuses_without_the_file_system_and_resolve_within_follows_symlinks() {
        let (_t, files, outside) = setup();
        assert!(matches!(
            lexical(&files, "../x.wav"),
            Err(PathError::Escapes(_))
        ));
        assert!(matches!(
            lexical(&files, "/etc/passwd"),
            Err(PathError::Absolute(_))
        ));
        assert!(matches!(lexical(&files, ""), Err(PathError::Empty)));
        assert_eq!(
            lexical(Path::new("/nowhere"), "a/./b/../c.wav").unwrap(),
            PathBuf::from("/nowhere/a/c.wav")
        );
        symlink(&outside, files.join("out")).unwrap();
        let escaping = lexical(&files, "out/secret.wav").unwrap();
        assert!(matches!(
            resolve_within(&files, &escaping),
            Err(PathError::Escapes(_))
        ));
        let inside = lexical(&files, "hello.wav").unwrap();
        assert_eq!(
            resolve_within(&files, &inside).unwrap(),
            files.canonicalize().unwrap().join("hello.wav")
        );
    }

    #[test]
    fn names_inside_resolve() {
        let (_t, files, _) = setup();
        let root = files.canonicalize().unwrap();
        assert_eq!(
            confine(&files, "hello.wav").unwrap(),
            root.join("hello.wav")
        );
        assert_eq!(
            confine(&files, "./prompts/new.wav").unwrap(),
            root.join("prompts/new.wav")
        );
        assert_eq!(
            confine(&files, "prompts/../hello.wav").unwrap(),
            root.join("hello.wav")
        );
        assert_eq!(
            confine(&files, "not-yet.wav").unwrap(),
            root.join("not-yet.wav")
        );
    }

    #[test]
    fn dot_dot_and_absolute_paths_are_refused() {
        let (_t, files, outside) = setup();
        assert!(matches!(
            confine(&files, "../outside/secret.wav"),
            Err(PathError::Escapes(_))
        ));
        assert!(matches!(
            confine(&files, "prompts/../../x.wav"),
            Err(PathError::Escapes(_))
        ));
        let abs = outside.join("secret.wav");
        assert!(matches!(
            confine(&files, abs.to_str().unwrap()),
            Err(PathError::Absolute(_))
        ));
        assert!(matches!(
            confine(&files, "/etc/passwd"),
            Err(PathError::Absolute(_))
        ));
        assert_eq!(confine(&files, ""), Err(PathError::Empty));
        assert!(matches!(confine(&files, "."), Err(PathError::NotAFile(_))));
        assert!(matches!(
            confine(&files, "prompts"),
            Err(PathError::NotAFile(_))
        ));
        assert!(matches!(
            confine(&files, "missing-dir/x.wav"),
            Err(PathError::Io(..))
        ));
        let gone = files.join("nope");
        assert!(matches!(
            confine(&gone, "x.wav"),
            Err(PathError::FilesDir(..))
        ));
    }

    #[test]
    fn symlinks_out_are_refused_and_in_are_followed() {
        let (_t, files, outside) = setup();
        symlink(outside.join("secret.wav"), files.join("link.wav")).unwrap();
        symlink(&outside, files.join("linkdir")).unwrap();
        symlink(files.join("hello.wav"), files.join("inner.wav")).unwrap();
        symlink(outside.join("not-there.wav"), files.join("dangling.wav")).unwrap();
        assert!(matches!(
            confine(&files, "link.wav"),
            Err(PathError::Escapes(_))
        ));
        assert!(matches!(
            confine(&files, "linkdir/secret.wav"),
            Err(PathError::Escapes(_))
        ));
        assert!(matches!(
            confine(&files, "linkdir/new.wav"),
            Err(PathError::Escapes(_))
        ));
        // A dangling link cannot be resolved: refused rather than written through.
        assert!(confine(&files, "dangling.wav").is_err());
        let root = files.canonicalize().unwrap();
        assert_eq!(
            confine(&files, "inner.wav").unwrap(),
            root.join("hello.wav")
        );
        // files_dir itself reached through a symlink is fine.
        let alias = files.parent().unwrap().join("alias");
        symlink(&files, &alias).unwrap();
        assert_eq!(
            confine(&alias, "hello.wav").unwrap(),
            root.join("hello.wav")
        );
    }
}
