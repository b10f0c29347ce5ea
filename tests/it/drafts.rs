//! Drafts stay on the server while a post is written, and come back.

use crate::common::TestApp;
use crate::journeys::{first_coordinator, member};

async fn a_draft_survives_leaving_the_page_and_goes_when_posted(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let life = app
        .scalar("SELECT id FROM categories WHERE name = '暮らし'")
        .await;
    let family_room = app
        .scalar("SELECT id FROM categories WHERE name = '家族の部屋'")
        .await;

    // What the page's script sends a few seconds after typing stops.
    hana.get(&format!("/c/{life}/new")).await;
    let place = format!("topic:{life}");
    let saved = hana
        .post_form(
            "/drafts",
            &[
                ("place", &place),
                ("title", "眠れない夜に"),
                ("body", "長い文章の途中です"),
            ],
        )
        .await;
    assert_eq!(saved.status, 204);
    let form = hana.get(&format!("/c/{life}/new")).await;
    assert_eq!(
        form.attr("input[name=title]", "value").as_deref(),
        Some("眠れない夜に")
    );
    assert_eq!(
        form.select("textarea[name=body]").join(""),
        "長い文章の途中です"
    );
    assert!(
        form.attr("form[data-draft-place]", "data-draft-place")
            .is_some(),
        "the form asks for autosaving"
    );

    let posted = hana
        .post_form(
            &format!("/c/{life}/new"),
            &[
                ("title", "眠れない夜に"),
                ("body", "長い文章の最後です"),
                ("action", "post"),
            ],
        )
        .await;
    assert_eq!(posted.status, 303);
    let topic = posted.redirect_path();
    let form = hana.get(&format!("/c/{life}/new")).await;
    assert_eq!(
        form.select("textarea[name=body]").join(""),
        "",
        "a posted draft is gone"
    );

    // A preview keeps a reply's draft without the script.
    hana.get(&topic).await;
    hana.post_form(&topic, &[("body", "返信の下書き"), ("action", "preview")])
        .await;
    let again = hana.get(&topic).await;
    assert_eq!(again.select("textarea[name=body]").join(""), "返信の下書き");
    hana.post_form(&topic, &[("body", "返信の下書き"), ("action", "post")])
        .await;
    assert_eq!(
        hana.get(&topic)
            .await
            .select("textarea[name=body]")
            .join(""),
        ""
    );

    // Nowhere the member may not write, nor anywhere made up.
    let hidden = hana
        .post_form(
            "/drafts",
            &[("place", &format!("topic:{family_room}")), ("body", "x")],
        )
        .await;
    assert_eq!(hidden.status, 404);
    let nonsense = hana
        .post_form("/drafts", &[("place", "edit:1"), ("body", "x")])
        .await;
    assert_eq!(nonsense.status, 400);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM drafts").await, 0);
    app.shutdown().await;
}
both_databases!(a_draft_survives_leaving_the_page_and_goes_when_posted);
