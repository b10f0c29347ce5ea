//! Integration tests: each module is a set of stories, each story run on SQLite and PostgreSQL
//! against the real server (see `common`).

#[macro_use]
mod common;

mod harness;
mod journeys;
mod smoke;

mod accounts;
mod admin_members;
mod announcements;
mod browser;
mod cafe;
mod cafe_schedule;
mod categories;
mod crash;
mod crowds;
mod drafts;
mod export;
mod forums;
mod forums_social;
mod invitations;
mod jobs;
mod leave;
mod limits;
mod login;
mod mail_outage;
mod moderation;
mod moderation_members;
mod names;
mod notifications;
mod notify_mail;
mod notify_prefs;
mod qa;
mod qa_slots;
mod reports;
mod safety;
mod search;
mod security;
mod stats;
mod topic_pages;
mod ux;
