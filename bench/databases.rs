//! Where each scenario's fresh database comes from: a file in the work
//! folder on SQLite, a new database on the Postgres server (dropped at the
//! end unless `--keep`).

use super::*;

/// Where each scenario's fresh database comes from.
pub(crate) enum Databases {
    Sqlite {
        dir: PathBuf,
    },
    Postgres {
        admin_url: String,
        run: u32,
        created: Vec<String>,
    },
}

impl Databases {
    /// Connects to the server; answers its version and synchronous_commit.
    pub(crate) async fn postgres(
        admin_url: &str,
        run: u32,
    ) -> Result<(Databases, String, String), String> {
        let mut conn = tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::PgConnection::connect(admin_url),
        )
        .await
        .map_err(|_| "no answer within 5 s".to_string())?
        .map_err(|e| e.to_string())?;
        let version: String = sqlx::query("SHOW server_version")
            .fetch_one(&mut conn)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(|e| e.to_string())?;
        let sync: String = sqlx::query("SHOW synchronous_commit")
            .fetch_one(&mut conn)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(|e| e.to_string())?;
        conn.close().await.ok();
        Ok((
            Databases::Postgres {
                admin_url: admin_url.to_string(),
                run,
                created: Vec::new(),
            },
            version,
            sync,
        ))
    }

    pub(crate) async fn fresh(&mut self, scenario: &str) -> Result<Db, String> {
        match self {
            Databases::Sqlite { dir } => Ok(Db {
                url: format!(
                    "sqlite://{}",
                    dir.join(format!("sqlite-{scenario}.db")).display()
                ),
                postgres: None,
            }),
            Databases::Postgres {
                admin_url,
                run,
                created,
            } => {
                let name = format!("hookgate_bench_{run:08x}_{scenario}");
                let mut conn = sqlx::PgConnection::connect(admin_url)
                    .await
                    .map_err(|e| format!("postgres: {e}"))?;
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| format!("create database {name}: {e}"))?;
                conn.close().await.ok();
                created.push(name.clone());
                let mut url =
                    reqwest::Url::parse(admin_url).map_err(|e| format!("postgres URL: {e}"))?;
                url.set_path(&format!("/{name}"));
                Ok(Db {
                    url: url.to_string(),
                    postgres: Some(name),
                })
            }
        }
    }

    pub(crate) fn names(&self) -> Vec<String> {
        match self {
            Databases::Sqlite { dir } => vec![dir.display().to_string()],
            Databases::Postgres { created, .. } => created.clone(),
        }
    }

    pub(crate) async fn drop_all(&mut self) {
        let Databases::Postgres {
            admin_url, created, ..
        } = self
        else {
            return;
        };
        let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await else {
            return;
        };
        for name in created.drain(..) {
            if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await
            {
                eprintln!("bench: could not drop database {name}: {e}");
            }
        }
        conn.close().await.ok();
    }
}
