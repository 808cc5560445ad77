//! `[helpdesk]`: the support desk follow-up tickets go to, and its checks.

use super::*;

/// Which desk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HelpdeskProvider {
    /// Zendesk Support (Tickets API, API token).
    Zendesk,
    /// Freshdesk (API key).
    Freshdesk,
    /// Gorgias (REST API key).
    Gorgias,
}

/// A support desk: a detractor's answer (and a "help" reply) opens one ticket per order
/// with the customer as requester; later replies are internal notes on it (needs
/// `[survey]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskConfig {
    /// `zendesk`, `freshdesk` or `gorgias`.
    pub provider: HelpdeskProvider,
    /// The account's URL: `https://{subdomain}.zendesk.com`, `https://{domain}.freshdesk.com`,
    /// `https://{domain}.gorgias.com`.
    pub base_url: String,
    /// The agent or user the token belongs to (Zendesk, Gorgias).
    #[serde(default)]
    pub email: Option<String>,
    /// The API token (Zendesk), API key (Freshdesk, Gorgias).
    pub api_token: SecretRef,
    /// Freshdesk: the ticket custom field holding Aftercare's external id
    /// (`cf_aftercare_id` by default; create it as a text field).
    #[serde(default)]
    pub external_id_field: Option<String>,
}

pub(super) fn semantic_helpdesk(
    h: &HelpdeskConfig,
    has_survey: bool,
    report: &mut dyn FnMut(&str, String),
) {
    if !has_survey {
        report(
            "helpdesk",
            "tickets are opened for survey answers; add a [survey] section, or remove this one"
                .into(),
        );
    }
    if let Err(e) = http_url(&h.base_url) {
        report("helpdesk.base_url", e);
    }
    secret_ok(&h.api_token, "helpdesk.api_token", report);
    let needs_email = matches!(
        h.provider,
        HelpdeskProvider::Zendesk | HelpdeskProvider::Gorgias
    );
    match &h.email {
        None if needs_email => report(
            "helpdesk.email",
            "the agent's email is needed with this desk's API token".into(),
        ),
        Some(e) if !is_mailbox(e) => {
            report("helpdesk.email", format!("`{e}` is not an email address"))
        }
        _ => {}
    }
    if h.external_id_field.is_some() && h.provider != HelpdeskProvider::Freshdesk {
        report(
            "helpdesk.external_id_field",
            "only Freshdesk keeps the external id in a custom field".into(),
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    const BASE: &str = "[shopify]\nshop = \"s.myshopify.com\"\naccess_token = { value = \"a\" }\nclient_secrets = [{ value = \"s\" }]\ntracking_link_key = { value = \"k\" }\n\n[server]\npublic_url = \"https://shop.example\"\n";
    const SURVEY: &str = "\n[survey]\nkind = \"nps\"\n";

    fn problems(text: &str) -> Vec<String> {
        match super::super::check(text) {
            Ok(_) => Vec::new(),
            Err(p) => p
                .into_iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect(),
        }
    }

    #[test]
    fn a_zendesk_section_is_accepted_and_its_mistakes_reported() {
        let ok = format!(
            "{BASE}{SURVEY}\n[helpdesk]\nprovider = \"zendesk\"\nbase_url = \"https://shop.zendesk.com\"\nemail = \"agent@shop.example\"\napi_token = {{ value = \"t\" }}\n"
        );
        let p = problems(&ok);
        assert!(p.iter().all(|l| !l.starts_with("helpdesk")), "{p:?}");
        let bad = format!(
            "{BASE}\n[helpdesk]\nprovider = \"zendesk\"\nbase_url = \"shop.zendesk.com\"\napi_token = {{ value = \"t\" }}\nexternal_id_field = \"cf_x\"\n"
        );
        let p = problems(&bad);
        for path in [
            "helpdesk:",
            "helpdesk.base_url:",
            "helpdesk.email:",
            "helpdesk.external_id_field:",
        ] {
            assert!(p.iter().any(|l| l.starts_with(path)), "{path} in {p:?}");
        }
        let unknown = format!(
            "{BASE}{SURVEY}\n[helpdesk]\nprovider = \"kayako\"\nbase_url = \"https://x\"\napi_token = {{ value = \"t\" }}\n"
        );
        assert!(problems(&unknown).iter().any(|l| l.starts_with("helpdesk")));
    }
}
