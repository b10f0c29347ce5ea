//! The expert Q&A on both databases: a question from asking to a live answer (screening, the
//! expert's desk, the WebSocket, the e-mail to an asker who is away, the archive and its
//! search), anonymity on every page, frame, e-mail and search result another member can reach,
//! deadline and capacity, screening with reasons, redaction kept for staff, merging, and a
//! private question staying with its asker.

use serde_json::Value;

use crate::common::live::Live;
use crate::common::{Browser, MAIL_WAIT, TestApp};
use crate::journeys::{member, member_as, staff};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

struct Scene {
    coordinator: Browser,
    moderator: Browser,
    expert: Browser,
    hana: Browser,
    sora: Browser,
    slot: i64,
}

/// Staff, an expert with a profile, hana and sora (members), and a slot of the expert's that
/// is on now and takes questions for the next hour, with `capacity` places.
async fn scene(app: &TestApp, capacity: i64) -> Scene {
    let (coordinator, moderator) = staff(app).await;
    let expert = member_as(
        app,
        &coordinator,
        "sensei@example.org",
        "expert",
        "supporter",
        "山田先生",
    )
    .await;
    let hana = member(app, &coordinator, "hana@example.org", "はな").await;
    let sora = member(app, &coordinator, "sora@example.org", "そら").await;
    let expert_id = app
        .scalar("SELECT id FROM users WHERE email = 'sensei@example.org'")
        .await;
    app.execute(&format!(
        "INSERT INTO expert_profiles (user_id, qualification, introduction, updated_at) \
         VALUES ({expert_id}, '社会保険労務士', '休職と復職のご相談を受けています。', 0)"
    ))
    .await;
    let slot = app
        .scalar(&format!(
            "INSERT INTO qa_slots (expert_id, theme, starts_at, ends_at, deadline_at, capacity, \
             follow_ups, created_at) VALUES ({expert_id}, '傷病手当金と休職', {start}, {end}, \
             {deadline}, {capacity}, 1, 0) RETURNING id",
            start = now() - 60,
            end = now() + 7200,
            deadline = now() + 3600,
        ))
        .await;
    Scene {
        coordinator,
        moderator,
        expert,
        hana,
        sora,
        slot,
    }
}

async fn ask(browser: &Browser, slot: i64, body: &str, shared: bool, anonymous: bool) -> u16 {
    browser.get(&format!("/qa/slots/{slot}")).await;
    let mut fields = vec![("body", body)];
    if shared {
        fields.push(("shared", "1"));
    }
    if anonymous {
        fields.push(("anonymous", "1"));
    }
    let page = browser
        .post_form(&format!("/qa/slots/{slot}/questions"), &fields)
        .await;
    page.status.as_u16()
}

async fn question_id(app: &TestApp, body: &str) -> i64 {
    app.scalar(&format!(
        "SELECT id FROM qa_questions WHERE body = '{body}'"
    ))
    .await
}

async fn screen(moderator: &Browser, question: i64, action: &str, fields: &[(&str, &str)]) -> u16 {
    moderator
        .get(&format!("/mod/qa-questions/{question}"))
        .await;
    moderator
        .post_form(&format!("/mod/qa-questions/{question}/{action}"), fields)
        .await
        .status
        .as_u16()
}

async fn publish(expert: &Browser, slot: i64, question: i64, body: &str) -> u16 {
    expert.get(&format!("/qa/slots/{slot}/desk")).await;
    expert
        .post_form(
            &format!("/qa/questions/{question}/answer"),
            &[("body", body), ("action", "publish")],
        )
        .await
        .status
        .as_u16()
}

async fn watch(browser: &Browser, slot: i64) -> (Live, Value) {
    let mut live = Live::try_connect_to(
        browser,
        &format!("/qa/slots/{slot}/live?since=0"),
        Some(browser.origin()),
    )
    .await
    .unwrap_or_else(|refused| panic!("Q&A handshake refused: {refused:?}"));
    let hello = live.next().await;
    assert_eq!(hello["type"], "hello", "{hello}");
    (live, hello)
}

const HANA_ASKS: &str = "休職中に傷病手当金を受け取りながら、復職の準備をしてもよいのでしょうか。";
const ANSWER: &str =
    "はい、**主治医の意見**を聞きながら準備を進めることはできます。支給要件を確かめましょう。";

async fn from_question_to_live_answer(app: TestApp) {
    let s = scene(&app, 5).await;
    assert_eq!(ask(&s.hana, s.slot, HANA_ASKS, true, true).await, 303);
    let q = question_id(&app, HANA_ASKS).await;
    // Hana is told where she stands; the expert does not see it before it is accepted.
    let page = s.hana.get(&format!("/qa/slots/{}", s.slot)).await;
    assert!(
        page.contains("確認待ちです（確認待ちの1番目・残り5件）"),
        "{}",
        page.text()
    );
    let desk = s.expert.get(&format!("/qa/slots/{}/desk", s.slot)).await;
    assert_eq!(desk.status, 200);
    assert!(!desk.contains("復職の準備"), "{}", desk.text());
    // The moderator sees who asked, and that she asked to be anonymous.
    let queue = s.moderator.get("/mod/qa").await;
    assert!(
        queue.contains("はな") && queue.contains("匿名希望"),
        "{}",
        queue.text()
    );
    assert_eq!(screen(&s.moderator, q, "accept", &[]).await, 303);
    let page = s.hana.get(&format!("/qa/slots/{}", s.slot)).await;
    assert!(page.contains("受け付けられました"), "{}", page.text());
    // The expert knows who asked.
    let desk = s.expert.get(&format!("/qa/slots/{}/desk", s.slot)).await;
    assert!(
        desk.contains("復職の準備") && desk.contains("はな（ほかのメンバーには"),
        "{}",
        desk.text()
    );

    // Sora watches the slot live; hana is away.
    let (mut sora_live, _) = watch(&s.sora, s.slot).await;
    let (mut expert_live, _) = watch(&s.expert, s.slot).await;
    let mails_before = app.mail.count();
    assert_eq!(publish(&s.expert, s.slot, q, ANSWER).await, 303);
    let frame = sora_live.next().await;
    assert_eq!(frame["type"], "answer", "{frame}");
    assert_eq!(frame["question"], q);
    let html = frame["html"].as_str().expect("the card");
    assert!(html.contains("匿名の相談者"), "{html}");
    assert!(!html.contains("はな"), "the asker stays anonymous: {html}");
    assert!(html.contains("<strong>主治医の意見</strong>"), "{html}");
    assert!(
        html.contains("個別の法的助言ではありません"),
        "the disclaimer: {html}"
    );
    // The expert's frame names the asker.
    let frame = expert_live.next().await;
    assert!(
        frame["html"].as_str().is_some_and(|h| h.contains("はな")),
        "{frame}"
    );

    // Hana, who was not watching, gets an e-mail that links to the answer.
    let mail = app
        .mail
        .wait_for(
            |m| m.seq >= mails_before && m.is_to("hana@example.org"),
            MAIL_WAIT,
        )
        .await;
    assert!(
        mail.subject.contains("回答がありました"),
        "{}",
        mail.subject
    );
    assert!(
        mail.text.contains(&format!("/qa/slots/{}#q{q}", s.slot)),
        "{}",
        mail.text
    );
    // Nobody else was mailed about it.
    assert!(
        app.mail
            .messages()
            .iter()
            .filter(|m| m.seq >= mails_before)
            .all(|m| m.is_to("hana@example.org")),
        "only the asker is mailed"
    );

    // The page and the archive show the answer to sora without hana's name.
    let page = s.sora.get(&format!("/qa/slots/{}", s.slot)).await;
    assert!(page.contains("匿名の相談者") && page.contains("主治医の意見"));
    assert!(!page.contains("はな"), "{}", page.text());
    let found = s
        .sora
        .get("/qa/archive?q=%E4%B8%BB%E6%B2%BB%E5%8C%BB")
        .await;
    assert!(
        found.contains("1件の回答") && found.contains("主治医の意見"),
        "{}",
        found.text()
    );
    assert!(!found.contains("はな"), "{}", found.text());
    let nothing = s.sora.get("/qa/archive?q=%E5%B9%B4%E9%87%91").await;
    assert!(nothing.contains("0件の回答"), "{}", nothing.text());
    // The report form on it does not name the asker either.
    let report = s.sora.get(&format!("/qa/questions/{q}/report")).await;
    assert_eq!(report.status, 200);
    assert!(!report.contains("はな"), "{}", report.text());

    // A follow-up during the slot reaches the expert at once; an edit of the answer goes live.
    s.hana.get(&format!("/qa/slots/{}", s.slot)).await;
    let follow = s
        .hana
        .post_form(
            &format!("/qa/questions/{q}/follow-up"),
            &[("body", "復職したら手当はどうなりますか。")],
        )
        .await;
    assert_eq!(follow.status, 303, "{}", follow.text());
    let desk = s.expert.get(&format!("/qa/slots/{}/desk", s.slot)).await;
    assert!(
        desk.contains("復職したら手当はどうなりますか。"),
        "{}",
        desk.text()
    );
    assert_eq!(
        publish(&s.expert, s.slot, q, "訂正：支給要件を必ず確かめましょう。").await,
        303
    );
    let frame = sora_live.next().await;
    assert!(
        frame["html"].as_str().is_some_and(|h| h.contains("訂正")),
        "{frame}"
    );
    // The moderator hides it: it goes from every page.
    let answer_id = app
        .scalar(&format!(
            "SELECT id FROM qa_answers WHERE question_id = {q}"
        ))
        .await;
    s.moderator.get("/mod/qa").await;
    let hidden = s
        .moderator
        .post_form(
            &format!("/mod/qa-answers/{answer_id}/hide"),
            &[("reason", "誤りがあるため")],
        )
        .await;
    assert_eq!(hidden.status, 303, "{}", hidden.text());
    let frame = sora_live.next().await;
    assert_eq!(frame["type"], "removed", "{frame}");
    let logged = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'qa_answer.hidden'")
        .await;
    assert_eq!(logged, 1);
    let _ = s.coordinator;
    app.shutdown().await;
}
both_databases!(from_question_to_live_answer);

async fn deadline_capacity_and_screening_with_reasons(app: TestApp) {
    let s = scene(&app, 1).await;
    assert_eq!(
        ask(&s.hana, s.slot, "はなの質問です。", true, false).await,
        303
    );
    assert_eq!(
        ask(&s.sora, s.slot, "そらの質問です。", true, false).await,
        303
    );
    let (hana_q, sora_q) = (
        question_id(&app, "はなの質問です。").await,
        question_id(&app, "そらの質問です。").await,
    );
    assert_eq!(screen(&s.moderator, hana_q, "accept", &[]).await, 303);
    // The only place is taken: accepting a second is refused, and it stays waiting.
    let refused = screen(&s.moderator, sora_q, "accept", &[]).await;
    assert_eq!(refused, 422);
    let status =
        format!("SELECT COUNT(*) FROM qa_questions WHERE id = {sora_q} AND status = 'pending'");
    assert_eq!(app.scalar(&status).await, 1);
    // A decline needs a reason, which sora reads.
    assert_eq!(
        screen(&s.moderator, sora_q, "decline", &[("reason", "")]).await,
        422
    );
    assert_eq!(
        screen(
            &s.moderator,
            sora_q,
            "decline",
            &[("reason", "今回は定員に達しました")]
        )
        .await,
        303
    );
    let page = s.sora.get(&format!("/qa/slots/{}", s.slot)).await;
    assert!(
        page.contains("理由：今回は定員に達しました"),
        "{}",
        page.text()
    );
    // The slot is full: no more questions, with a clear message, and nothing stored.
    let kazu = member(&app, &s.coordinator, "kazu@example.org", "かず").await;
    let page = kazu.get(&format!("/qa/slots/{}", s.slot)).await;
    assert!(page.attr("form#ask", "action").is_none(), "no form to ask");
    kazu.get(&format!("/qa/slots/{}", s.slot)).await;
    let refused = kazu
        .post_form(
            &format!("/qa/slots/{}/questions", s.slot),
            &[("body", "かずの質問です。")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.contains("質問の受付を終了しました"),
        "{}",
        refused.text()
    );
    // Past the deadline (with places again) it is the same.
    app.execute(&format!(
        "UPDATE qa_slots SET capacity = 5, deadline_at = {} WHERE id = {}",
        now() - 1,
        s.slot
    ))
    .await;
    assert_eq!(
        ask(&kazu, s.slot, "かずの質問です。", true, true).await,
        422
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM qa_questions WHERE body = 'かずの質問です。'")
            .await,
        0
    );
    // Screening is logged with the reason.
    let logged = app
        .scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'qa_question.declined' \
             AND reason = '今回は定員に達しました'",
        )
        .await;
    assert_eq!(logged, 1);
    let _ = s.expert;
    app.shutdown().await;
}
both_databases!(deadline_capacity_and_screening_with_reasons);

async fn redaction_is_kept_for_staff_and_merged_askers_hear(app: TestApp) {
    let s = scene(&app, 5).await;
    let original = "田中商事で働いています。休職の手続きを知りたいです。";
    assert_eq!(ask(&s.hana, s.slot, original, true, true).await, 303);
    assert_eq!(
        ask(&s.sora, s.slot, "休職の手続きを知りたいです。", false, true).await,
        303
    );
    let hana_q = question_id(&app, original).await;
    let sora_q = question_id(&app, "休職の手続きを知りたいです。").await;
    let redacted = "○○で働いています。休職の手続きを知りたいです。";
    assert_eq!(
        screen(
            &s.moderator,
            hana_q,
            "redact",
            &[("body", redacted), ("note", "勤務先名を伏せました")]
        )
        .await,
        303
    );
    // Staff keep her words; the expert reads the redacted text with the note.
    let staff_page = s
        .moderator
        .get(&format!("/mod/qa-questions/{hana_q}"))
        .await;
    assert!(staff_page.contains("田中商事"), "{}", staff_page.text());
    assert_eq!(screen(&s.moderator, hana_q, "accept", &[]).await, 303);
    // Sora's similar question joins hana's (a shared one).
    assert_eq!(
        screen(
            &s.moderator,
            sora_q,
            "merge",
            &[("into", &hana_q.to_string())]
        )
        .await,
        303
    );
    let page = s.sora.get(&format!("/qa/slots/{}", s.slot)).await;
    assert!(
        page.contains("似た質問とまとめられました"),
        "{}",
        page.text()
    );
    let desk = s.expert.get(&format!("/qa/slots/{}/desk", s.slot)).await;
    assert!(desk.contains(redacted) && desk.contains("勤務先名を伏せました"));
    assert!(!desk.contains("田中商事"), "{}", desk.text());
    let before = app.mail.count();
    assert_eq!(
        publish(
            &s.expert,
            s.slot,
            hana_q,
            "会社の就業規則を確かめましょう。"
        )
        .await,
        303
    );
    // Both askers are mailed; the page shows the redacted question to everyone.
    for address in ["hana@example.org", "sora@example.org"] {
        app.mail
            .wait_for(|m| m.seq >= before && m.is_to(address), MAIL_WAIT)
            .await;
    }
    let kazu = member(&app, &s.coordinator, "kazu@example.org", "かず").await;
    let page = kazu.get(&format!("/qa/slots/{}", s.slot)).await;
    assert!(page.contains(redacted) && page.contains("勤務先名を伏せました"));
    assert!(!page.contains("田中商事"), "{}", page.text());
    // The archive's search reads the redacted text, not the original.
    let found = kazu
        .get("/qa/archive?q=%E7%94%B0%E4%B8%AD%E5%95%86%E4%BA%8B")
        .await;
    assert!(found.contains("0件の回答"), "{}", found.text());
    let logged = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'qa_question.redacted'")
        .await;
    assert_eq!(logged, 1);
    app.shutdown().await;
}
both_databases!(redaction_is_kept_for_staff_and_merged_askers_hear);

async fn a_private_question_stays_with_its_asker(app: TestApp) {
    let s = scene(&app, 5).await;
    let private = "主治医に言いにくいことを相談したいです。";
    assert_eq!(ask(&s.hana, s.slot, private, false, false).await, 303);
    let q = question_id(&app, private).await;
    assert_eq!(screen(&s.moderator, q, "accept", &[]).await, 303);
    let (mut sora_live, _) = watch(&s.sora, s.slot).await;
    let (mut hana_live, _) = watch(&s.hana, s.slot).await;
    let before = app.mail.count();
    assert_eq!(
        publish(&s.expert, s.slot, q, "伝え方を一緒に考えましょう。").await,
        303
    );
    // Hana, watching, sees it live and is not mailed; sora gets nothing of it.
    let frame = hana_live.next().await;
    assert_eq!(frame["type"], "answer", "{frame}");
    let frame = sora_live.next().await;
    assert_eq!(frame["type"], "removed", "{frame}");
    assert!(frame.get("html").is_none(), "{frame}");
    let page = s.sora.get(&format!("/qa/slots/{}", s.slot)).await;
    assert!(
        !page.contains("伝え方を一緒に考えましょう"),
        "{}",
        page.text()
    );
    let archive = s.sora.get("/qa/archive").await;
    assert!(archive.contains("0件の回答"), "{}", archive.text());
    let report = s.sora.get(&format!("/qa/questions/{q}/report")).await;
    assert_eq!(report.status, 404);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        app.mail
            .messages()
            .iter()
            .all(|m| m.seq < before || !m.is_to("hana@example.org")),
        "a watching asker is not mailed"
    );
    app.shutdown().await;
}
both_databases!(a_private_question_stays_with_its_asker);

async fn the_content_pipeline_acts_on_questions_and_answers(app: TestApp) {
    let s = scene(&app, 5).await;
    s.moderator.get("/mod/words").await;
    for (word, action) in [("もうけ話", "block"), ("必ず治る", "hold")] {
        let page = s
            .moderator
            .post_form("/mod/words", &[("word", word), ("action", action)])
            .await;
        assert_eq!(page.status, 303, "{}", page.text());
    }
    // A blocking word stores nothing and says why, in the page's language.
    s.hana.get(&format!("/qa/slots/{}", s.slot)).await;
    let refused = s
        .hana
        .post_form(
            &format!("/qa/slots/{}/questions", s.slot),
            &[("body", "いいもうけ話があります")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("もうけ話"), "{}", refused.text());
    // A holding word marks it for staff to look at first.
    assert_eq!(
        ask(&s.hana, s.slot, "この薬で必ず治るか知りたい", true, true).await,
        303
    );
    let held = question_id(&app, "この薬で必ず治るか知りたい").await;
    let queue = s.moderator.get("/mod/qa").await;
    assert!(queue.contains("注意語で保留"), "{}", queue.text());
    let desk = s.expert.get(&format!("/qa/slots/{}/desk", s.slot)).await;
    assert!(
        !desk.contains("必ず治る"),
        "a held question never reaches the expert"
    );
    // Crisis words never block: the question is taken, the asker shown where help is, every
    // moderator alerted and mailed with a link to the question.
    s.sora.get(&format!("/qa/slots/{}", s.slot)).await;
    let crisis = s
        .sora
        .post_form(
            &format!("/qa/slots/{}/questions", s.slot),
            &[("body", "仕事を失ったらもう消えたいです"), ("shared", "1")],
        )
        .await;
    assert_eq!(crisis.redirect_path(), "/support");
    let crisis_q = question_id(&app, "仕事を失ったらもう消えたいです").await;
    let link = format!("/mod/qa-questions/{crisis_q}");
    app.mail
        .wait_for(
            |m| m.is_to("mod@example.org") && m.text.contains(&link),
            MAIL_WAIT,
        )
        .await;
    // Accepted and answered, the held one can be reported; a moderator resolves the report by
    // hiding the question, which takes its answer from the page.
    assert_eq!(screen(&s.moderator, held, "accept", &[]).await, 303);
    assert_eq!(
        publish(&s.expert, s.slot, held, "治るとは言い切れません。").await,
        303
    );
    s.sora.get(&format!("/qa/questions/{held}/report")).await;
    let reported = s
        .sora
        .post_form(
            &format!("/qa/questions/{held}/report"),
            &[("reason", "misinformation"), ("note", "誤解を招きます")],
        )
        .await;
    assert_eq!(reported.status, 303, "{}", reported.text());
    let page = s.moderator.get(&format!("/mod/qa-questions/{held}")).await;
    assert!(page.contains("誤解を招きます"), "{}", page.text());
    let resolved = s
        .moderator
        .post_form(
            &format!("/mod/qa-questions/{held}/reports/resolve"),
            &[("resolution", "hidden"), ("note", "誤解を招く表現のため")],
        )
        .await;
    assert_eq!(resolved.status, 303, "{}", resolved.text());
    let page = s.sora.get(&format!("/qa/slots/{}", s.slot)).await;
    assert!(!page.contains("治るとは言い切れません"), "{}", page.text());
    let page = s.hana.get(&format!("/qa/slots/{}", s.slot)).await;
    assert!(
        page.contains("理由：誤解を招く表現のため"),
        "{}",
        page.text()
    );
    // A silenced member cannot ask.
    let hana_id = app
        .scalar("SELECT id FROM users WHERE email = 'hana@example.org'")
        .await;
    s.moderator.get(&format!("/mod/members/{hana_id}")).await;
    let page = s
        .moderator
        .post_form(
            &format!("/mod/members/{hana_id}/silence"),
            &[
                ("length", "1d"),
                ("until", ""),
                ("reason", "少しお休みしましょう"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.text());
    s.hana.get(&format!("/qa/slots/{}", s.slot)).await;
    let silenced = s
        .hana
        .post_form(
            &format!("/qa/slots/{}/questions", s.slot),
            &[("body", "もう一つ質問です")],
        )
        .await;
    assert!(silenced.status.is_client_error(), "{}", silenced.status);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM qa_questions WHERE body = 'もう一つ質問です'")
            .await,
        0
    );
    let _ = s.coordinator;
    app.shutdown().await;
}
both_databases!(the_content_pipeline_acts_on_questions_and_answers);

async fn a_watcher_suspended_is_cut_off_at_once(app: TestApp) {
    let s = scene(&app, 5).await;
    let (mut sora_live, _) = watch(&s.sora, s.slot).await;
    let (mut hana_live, _) = watch(&s.hana, s.slot).await;
    let sora_id = app
        .scalar("SELECT id FROM users WHERE email = 'sora@example.org'")
        .await;
    s.moderator.get(&format!("/mod/members/{sora_id}")).await;
    let page = s
        .moderator
        .post_form(
            &format!("/mod/members/{sora_id}/suspend"),
            &[("length", "1d"), ("until", ""), ("reason", "確認のため")],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.text());
    // Without waiting for anything to be published on the slot.
    let closed = sora_live.closed().await.expect("a close frame");
    assert_eq!(u16::from(closed.code), 4401);

    // Hana, whose account did not change, keeps watching and gets the next answer.
    assert_eq!(ask(&s.hana, s.slot, HANA_ASKS, true, false).await, 303);
    let q = question_id(&app, HANA_ASKS).await;
    assert_eq!(screen(&s.moderator, q, "accept", &[]).await, 303);
    assert_eq!(publish(&s.expert, s.slot, q, ANSWER).await, 303);
    let frame = hana_live.next().await;
    assert_eq!(frame["type"], "answer", "{frame}");
    app.shutdown().await;
}
both_databases!(a_watcher_suspended_is_cut_off_at_once);
