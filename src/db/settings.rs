//! Queries on `site_settings`: what coordinators set without a restart, read where it is used
//! (on every instance alike).

use super::Exec;
use crate::on;

/// How many of a new member's first posts wait for review.
pub const REVIEW_THRESHOLD: &str = "review_threshold";

pub async fn get(exec: Exec<'_>, name: &str) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT value FROM site_settings WHERE name = $1";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(name)
        .fetch_optional(c)
        .await)
}

pub async fn set(exec: Exec<'_>, name: &str, value: &str) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO site_settings (name, value) VALUES ($1, $2) \
               ON CONFLICT (name) DO UPDATE SET value = excluded.value";
    on!(exec, |c| sqlx::query(sql)
        .bind(name)
        .bind(value)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Every stored setting: (name, value).
pub async fn all(exec: Exec<'_>) -> Result<Vec<(String, String)>, sqlx::Error> {
    let sql = "SELECT name, value FROM site_settings ORDER BY name";
    on!(exec, |c| sqlx::query_as(sql).fetch_all(c).await)
}
