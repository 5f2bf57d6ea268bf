//! Calling the server as a principal: filled-in forms, server functions, pages, multipart posts, sessions.

use super::*;
use crate::{
    auth::{PASSWORD, expect},
    helpers::{cookie_of, session_cookie},
    tickets::png,
};
use serde_json::Value;

impl World {
    pub(super) fn cookie(&self, who: Who) -> Option<String> {
        self.cookies.get(&who).cloned()
    }

    /// `template` with `{who}` and A's ids filled in.
    pub(super) fn fill(&self, template: &str, who: &str) -> String {
        let mut filled = template.replace("{who}", who);
        for (name, value) in &self.vars {
            filled = filled.replace(&format!("{{{name}}}"), value);
        }
        assert!(!filled.contains('{'), "a placeholder without a value in {template:?}");
        filled
    }

    pub(super) fn fill_form(&self, form: Form, who: &str) -> Vec<(String, String)> {
        form.iter()
            .map(|(name, value)| ((*name).to_owned(), self.fill(value, who)))
            .collect()
    }

    async fn answer(response: reqwest::Response) -> (u16, String) {
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// A server function, as the hydrated app calls it (a same-origin form post).
    pub(super) async fn call(&self, function: &str, form: &[(String, String)], cookie: Option<&str>) -> (u16, String) {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        World::answer(self.app.call(function, &form, cookie).await).await
    }

    /// The same fields as a JSON object.
    pub(super) async fn call_json(
        &self,
        function: &str,
        form: &[(String, String)],
        cookie: Option<&str>,
    ) -> (u16, String) {
        let object: serde_json::Map<String, Value> = form
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut request = self
            .app
            .client
            .post(self.app.url(&format!("/api/{function}")))
            .header("origin", &self.app.origin)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/json")
            .body(Value::Object(object).to_string());
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        World::answer(request.send().await.expect("request succeeds")).await
    }

    /// A server function whose answer must be 200, as JSON.
    pub(super) async fn json_of(&self, function: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Value {
        let body = expect(self.app.call(function, form, cookie).await, 200).await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{function}: {e}: {body}"))
    }

    /// A GET, as a browser asks for a page (`html`) or a script for a file.
    pub(super) async fn get(&self, path: &str, cookie: Option<&str>, html: bool) -> (u16, String) {
        let mut request = self.app.client.get(self.app.url(path));
        if html {
            request = request.header("accept", "text/html,application/xhtml+xml");
        }
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        World::answer(request.send().await.expect("request succeeds")).await
    }

    /// A multipart form, as a script posts it (the answer is a status and JSON), with a PNG in `file`
    /// (field, file name) if given.
    pub(super) async fn post_multipart(
        &self,
        path: &str,
        fields: &[(String, String)],
        file: Option<(&str, &str)>,
        cookie: Option<&str>,
    ) -> (u16, String) {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.clone(), value.clone());
        }
        if let Some((field, name)) = file {
            form = form.part(
                field.to_owned(),
                reqwest::multipart::Part::bytes(png()).file_name(name.to_owned()),
            );
        }
        let mut request = self
            .app
            .client
            .post(self.app.url(path))
            .header("origin", &self.app.origin)
            .header("sec-fetch-site", "same-origin")
            .multipart(form);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        World::answer(request.send().await.expect("request succeeds")).await
    }

    /// A new staff session with the password.
    pub(super) async fn sign_in(&self, email: &str, password: &str) -> String {
        let response = self
            .app
            .call("signin", &[("email", email), ("password", password)], None)
            .await;
        let cookie = session_cookie(&response).map(|(name, value, _)| format!("{name}={value}"));
        let body = expect(response, 200).await;
        cookie.unwrap_or_else(|| panic!("signing in as {email} set no session cookie: {body}"))
    }

    /// A new portal session of A's customer, by an emailed link.
    async fn portal_session(&mut self) -> String {
        let email = self.alpha.customer_email.clone();
        expect(
            self.app
                .call("p/signin/link", &[("slug", "alpha"), ("email", email.as_str())], None)
                .await,
            200,
        )
        .await;
        self.customer_links += 1;
        let link = self
            .app
            .email(&email, "Sign in to", self.customer_links)
            .await
            .link(&format!("{}/p/alpha/signin/", self.app.address));
        let token = link.rsplit('/').next().unwrap().to_owned();
        let redeemed = self
            .app
            .call("p/signin/redeem", &[("slug", "alpha"), ("token", token.as_str())], None)
            .await;
        let cookie = cookie_of(&redeemed);
        expect(redeemed, 200).await;
        cookie
    }

    /// A session of `who` made for one call that ends it.
    pub(super) async fn fresh_session(&mut self, who: Who) -> Option<String> {
        match who {
            Who::Anonymous => None,
            Who::CustomerA => Some(self.portal_session().await),
            staff => Some(self.sign_in(staff.email().unwrap(), PASSWORD).await),
        }
    }

    /// After signing out everywhere: the staff principals sign in again.
    pub(super) async fn sign_staff_in_again(&mut self) {
        for who in PRINCIPALS.into_iter().filter(|who| who.is_staff()) {
            let cookie = self.sign_in(who.email().unwrap(), PASSWORD).await;
            self.cookies.insert(who, cookie);
        }
    }
}
