//! Files Quiver creates on disk.

use std::os::unix::fs::PermissionsExt;

use crate::support::{CREATOR, TestApp};

/// The SQLite database holds password hashes and refresh tokens: other local users must not
/// read it, nor its WAL, shared-memory or lock files, whatever the umask.
#[tokio::test]
async fn a_new_sqlite_database_is_readable_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let app = TestApp::on_database(&format!("sqlite://{}", db.display()), &[]).await;
    // A write, so the WAL and shared-memory files exist.
    app.token(CREATOR).await;
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for suffix in ["", "-wal", "-shm", ".migrate-lock"] {
        let name = format!("fresh.db{suffix}");
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    for name in &names {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{name} has mode {:o}", mode & 0o777);
    }
    app.running.stop().await.unwrap();
}
