//! A client that behaves like a person's browser: it keeps cookies, sends forms with the page's
//! CSRF token and this site's `Origin`, and leaves redirects for the test to see (or follow).

use std::sync::{Arc, Mutex};

use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use scraper::{ElementRef, Html, Selector};

/// How many redirects the `…_following` helpers follow before giving up.
const MAX_REDIRECTS: usize = 5;

/// One browser: a cookie jar and the last CSRF token seen. Clones share both.
#[derive(Clone)]
pub struct Browser {
    http: reqwest::Client,
    cookies: Arc<reqwest::cookie::Jar>,
    /// `http://127.0.0.1:PORT`, no trailing slash; also the `Origin` forms are sent with.
    base: String,
    csrf: Arc<Mutex<Option<String>>>,
}

/// A response, read to the end.
#[derive(Clone, Debug)]
pub struct Page {
    pub status: StatusCode,
    /// The URL that was requested.
    pub url: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Browser {
    pub fn new(base_url: &str) -> Browser {
        Browser::with_headers(base_url, HeaderMap::new())
    }

    /// A browser whose requests come through a reverse proxy that names `client` as their
    /// origin (`X-Forwarded-For`; the server heeds it with `trust_forwarded_for`): another device
    /// or household than the other browsers of a test.
    pub fn from_client(base_url: &str, client: &str) -> Browser {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            client.parse().expect("an address is a header value"),
        );
        Browser::with_headers(base_url, headers)
    }

    fn with_headers(base_url: &str, headers: HeaderMap) -> Browser {
        let cookies = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(cookies.clone())
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("building the test HTTP client");
        Browser {
            http,
            cookies,
            base: base_url.trim_end_matches('/').to_owned(),
            csrf: Arc::new(Mutex::new(None)),
        }
    }

    /// `path` made absolute against the site (absolute URLs are kept as they are).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// The underlying client (shares the cookie jar), for requests the helpers do not cover.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The `Cookie` header this browser sends to the site (for a WebSocket handshake).
    pub fn cookie_header(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = self.base.parse().expect("the base URL");
        self.cookies
            .cookies(&url)
            .and_then(|value| value.to_str().ok().map(str::to_owned))
    }

    /// The site's origin, as the browser's pages have it.
    pub fn origin(&self) -> &str {
        &self.base
    }

    /// The CSRF token of the last page fetched that had one.
    pub fn csrf(&self) -> Option<String> {
        self.csrf.lock().unwrap().clone()
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(self.url(path))).await
    }

    /// GET with extra request headers (a browser's `Accept-Language`, say).
    pub async fn get_with_headers(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// GET, then follow redirects (up to 5) to the final page.
    pub async fn get_following(&self, path: &str) -> Page {
        let page = self.get(path).await;
        self.follow_all(page).await
    }

    /// Follows one redirect: GETs the `Location` of `page`, which must be a redirect.
    pub async fn follow(&self, page: &Page) -> Page {
        let target = page.location_url().unwrap_or_else(|| {
            panic!(
                "{} {} is not a redirect (expected a Location header)",
                page.status, page.url
            )
        });
        self.get(&target).await
    }

    /// Follows redirects from `page` (up to 5), returning the first page that is not one. Every
    /// hop is a GET, as browsers do after 301, 302 and 303.
    pub async fn follow_all(&self, mut page: Page) -> Page {
        for _ in 0..MAX_REDIRECTS {
            if !page.is_redirect() {
                return page;
            }
            page = self.follow(&page).await;
        }
        assert!(
            !page.is_redirect(),
            "more than {MAX_REDIRECTS} redirects, the last to {:?}",
            page.location()
        );
        page
    }

    /// Submits a form as a browser would: urlencoded, with `Origin` set to this site and the
    /// `csrf` field from the last page fetched (unless `fields` has one already).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut fields: Vec<(&str, String)> =
            fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        if !fields.iter().any(|(k, _)| *k == "csrf") {
            let token = self.csrf().unwrap_or_else(|| {
                panic!(
                    "post_form({path}): no CSRF token seen yet; fetch the page with the form first"
                )
            });
            fields.push(("csrf", token));
        }
        let request = self
            .http
            .post(self.url(path))
            .header(header::ORIGIN, &self.base)
            .form(&fields);
        self.send(request).await
    }

    /// [`Browser::post_form`], then follow redirects (up to 5) to the final page.
    pub async fn post_form_following(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.post_form(path, fields).await;
        self.follow_all(page).await
    }

    /// Posts exactly `fields`, urlencoded: no CSRF token added, no `Origin` header.
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send(self.http.post(self.url(path)).form(fields)).await
    }

    /// Posts `body` with exactly `headers` (for forged origins, wrong content types, invalid
    /// UTF-8 and the like).
    pub async fn post_raw(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> Page {
        let mut request = self.http.post(self.url(path)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// A multipart upload as a browser sends it: `fields` (plus `csrf` unless given), then files
    /// as `(field name, file name, content type, content)`; `Origin` set to this site.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Page {
        let boundary = format!("hidamari-test-{:016x}", rand::random::<u64>());
        let mut body = Vec::new();
        let mut part = |disposition: String, content_type: Option<&str>, content: &[u8]| {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n")
                    .as_bytes(),
            );
            if let Some(content_type) = content_type {
                body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        };
        let token = self.csrf();
        let has_csrf = fields.iter().any(|(k, _)| *k == "csrf");
        for (name, value) in fields {
            part(format!("name=\"{name}\""), None, value.as_bytes());
        }
        if !has_csrf {
            let token = token.unwrap_or_else(|| {
                panic!("post_multipart({path}): no CSRF token seen yet; fetch the page with the form first")
            });
            part("name=\"csrf\"".to_owned(), None, token.as_bytes());
        }
        for (name, file_name, content_type, content) in files {
            part(
                format!("name=\"{name}\"; filename=\"{file_name}\""),
                Some(content_type),
                content,
            );
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let request = self
            .http
            .post(self.url(path))
            .header(header::ORIGIN, &self.base)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(request).await
    }

    /// Any method, no body, for the odd case (HEAD, PUT, DELETE…).
    pub async fn request(&self, method: Method, path: &str) -> Page {
        self.send(self.http.request(method, self.url(path))).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let request = request.build().expect("a well-formed request");
        let shown = format!("{} {}", request.method(), request.url());
        let response = self
            .http
            .execute(request)
            .await
            .unwrap_or_else(|e| panic!("{shown}: {e}"));
        let status = response.status();
        let url = response.url().to_string();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{shown}: reading the body: {e}"));
        let page = Page {
            status,
            url,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        if let Some(token) = page.csrf() {
            *self.csrf.lock().unwrap() = Some(token);
        }
        page
    }
}

impl Page {
    fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    fn selector(css: &str) -> Selector {
        Selector::parse(css).unwrap_or_else(|e| panic!("bad CSS selector {css:?}: {e}"))
    }

    /// The text a person sees in the page's body, whitespace collapsed.
    pub fn text(&self) -> String {
        let html = self.html();
        let body = html
            .select(&Self::selector("body"))
            .next()
            .unwrap_or_else(|| html.root_element());
        visible_text(body)
    }

    /// Whether the visible text contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.text().contains(needle)
    }

    /// The visible text of every element matching `css`.
    pub fn select(&self, css: &str) -> Vec<String> {
        self.html()
            .select(&Self::selector(css))
            .map(visible_text)
            .collect()
    }

    /// The attribute `name` of the first element matching `css` that has it.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.attrs(css, name).into_iter().next()
    }

    /// The attribute `name` of every element matching `css` that has it.
    pub fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        self.html()
            .select(&Self::selector(css))
            .filter_map(|e| e.value().attr(name).map(str::to_owned))
            .collect()
    }

    /// The page's CSRF token (`input[name=csrf]`), if it has a form.
    pub fn csrf(&self) -> Option<String> {
        if !self.body.contains("csrf") {
            return None;
        }
        self.attr("input[name=csrf]", "value")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_redirect(&self) -> bool {
        self.status.is_redirection()
    }

    /// The `Location` header as sent.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The `Location` header resolved against the page's URL.
    pub fn location_url(&self) -> Option<String> {
        let location = self.location()?;
        let base = url::Url::parse(&self.url).ok()?;
        base.join(location).ok().map(String::from)
    }

    /// For a redirect: where it points, as path and query (`/login`, `/?x=1`). Panics otherwise.
    pub fn redirect_path(&self) -> String {
        assert!(
            self.is_redirect(),
            "{} {}: expected a redirect; page text: {}",
            self.status,
            self.url,
            self.text()
        );
        let target = self
            .location_url()
            .expect("a redirect with a Location header");
        let target = url::Url::parse(&target).expect("the Location parses");
        match target.query() {
            Some(q) => format!("{}?{q}", target.path()),
            None => target.path().to_owned(),
        }
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{}: body is not JSON ({e}): {}", self.url, self.body))
    }
}

/// Elements whose boundaries separate words on screen; inline ones (`a`, `strong`…) do not.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "button",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "input",
    "label",
    "legend",
    "li",
    "main",
    "nav",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "select",
    "summary",
    "table",
    "td",
    "textarea",
    "th",
    "tr",
    "ul",
];

/// Text nodes under `element`, outside `script`, `style` and `template`, whitespace collapsed.
fn visible_text(element: ElementRef<'_>) -> String {
    fn walk(element: ElementRef<'_>, out: &mut String) {
        let name = element.value().name();
        if matches!(name, "script" | "style" | "template" | "noscript") {
            return;
        }
        let block = BLOCKS.contains(&name);
        if block {
            out.push(' ');
        }
        for child in element.children() {
            if let Some(text) = child.value().as_text() {
                out.push_str(text);
            } else if let Some(child) = ElementRef::wrap(child) {
                walk(child, out);
            }
        }
        if block {
            out.push(' ');
        }
    }
    let mut out = String::new();
    walk(element, &mut out);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
