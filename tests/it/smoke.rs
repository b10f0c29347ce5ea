//! The first look at the site, by a visitor without a session.

use crate::common::TestApp;

both_databases!(health_check_answers_ok);
both_databases!(visitor_is_sent_to_login);
both_databases!(login_page_has_a_protected_form);

async fn health_check_answers_ok(app: TestApp) {
    let page = app.client().get("/healthz").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.trim(), "ok");
    app.shutdown().await;
}

async fn visitor_is_sent_to_login(app: TestApp) {
    let browser = app.client();
    let page = browser.get("/").await;
    assert!(
        matches!(page.status.as_u16(), 302 | 303 | 307),
        "expected a redirect, got {}: {}",
        page.status,
        page.text()
    );
    assert_eq!(page.redirect_path(), "/login");
    let login = browser.follow(&page).await;
    assert_eq!(login.status, 200);
    app.shutdown().await;
}

async fn login_page_has_a_protected_form(app: TestApp) {
    let page = app.client().get("/login").await;
    assert_eq!(page.status, 200);
    let token = page
        .attr("form input[name=csrf]", "value")
        .expect("the login form carries a csrf input");
    assert_eq!(page.csrf().as_deref(), Some(token.as_str()));
    assert!(token.len() >= 32, "a short CSRF token: {token:?}");

    let csp = page
        .header("content-security-policy")
        .expect("a Content-Security-Policy header");
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "CSP without frame-ancestors 'none': {csp}"
    );
    assert!(
        !csp.contains("http"),
        "CSP names a third-party source: {csp}"
    );
    app.shutdown().await;
}
