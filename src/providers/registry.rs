//! The registry of providers: [`PROVIDERS`] is the one table of provider
//! names, the source keys each reads and how each is built, so adding a
//! provider is a file and a row. Parsing a source's `provider = "..."`,
//! [`super::Provider::name`] and the error listing the known providers all
//! read this table; there is no other list to keep in step with it.

use std::sync::Arc;

use axum::http::HeaderName;

use super::*;
use crate::config::{ConfigError, SourceConfig};

/// One row of the provider registry: the name a source's `provider` key
/// takes, the provider-specific source keys it reads, and how its scheme is
/// built from the source. [`PROVIDERS`] is the only list of providers;
/// names, lookup and validation all come from it.
pub struct Registration {
    pub name: &'static str,
    /// Optional source keys this provider reads; any other provider-specific
    /// key set on its source is a start-up error naming that key.
    pub keys: &'static [&'static str],
    pub build: Build,
}

/// Builds a provider's scheme from its source; the `&str` is the source's
/// config path (`sources[3]`) for errors.
pub type Build = fn(&SourceConfig, &str) -> Result<Arc<dyn Scheme>, ConfigError>;

/// Every provider hookgate verifies, in the order README lists them.
pub const PROVIDERS: &[Registration] = &[
    Registration {
        name: "stripe",
        keys: &[],
        build: |_, _| Ok(Arc::new(stripe::Stripe)),
    },
    Registration {
        name: "github",
        keys: &[],
        build: |_, _| Ok(Arc::new(github::Github)),
    },
    Registration {
        name: "standard-webhooks",
        keys: standard::KEYS,
        build: |source, key| standard::StandardWebhooks::build(source, key, "webhook"),
    },
    Registration {
        name: "svix",
        keys: standard::KEYS,
        build: |source, key| standard::StandardWebhooks::build(source, key, "webhook"),
    },
    Registration {
        name: "shopify",
        keys: &[],
        build: |_, _| Ok(Arc::new(shopify::Shopify)),
    },
    Registration {
        name: "slack",
        keys: &[],
        build: |_, _| Ok(Arc::new(slack::Slack)),
    },
    Registration {
        name: "gitlab",
        keys: &[],
        build: |_, _| Ok(Arc::new(gitlab::Gitlab)),
    },
    Registration {
        name: "generic-hmac",
        keys: generic::KEYS,
        build: |source, key| Ok(Arc::new(generic::Settings::from_config(source, key)?)),
    },
    Registration {
        name: "paddle",
        keys: &[],
        build: |_, _| Ok(Arc::new(paddle::Paddle)),
    },
    Registration {
        name: "linear",
        keys: &[],
        build: |_, _| Ok(Arc::new(linear::Linear)),
    },
    Registration {
        name: "twilio",
        keys: &["public_url"],
        build: |source, key| Ok(Arc::new(twilio::Twilio::from_config(source, key)?)),
    },
    Registration {
        name: "square",
        keys: &["public_url"],
        build: |source, key| Ok(Arc::new(square::Square::from_config(source, key)?)),
    },
    Registration {
        name: "mailgun",
        keys: &[],
        build: |_, _| Ok(Arc::new(mailgun::Mailgun)),
    },
    Registration {
        name: "hubspot",
        keys: &["public_url"],
        build: |source, key| Ok(Arc::new(hubspot::Hubspot::from_config(source, key)?)),
    },
    Registration {
        name: "intercom",
        keys: &[],
        build: |_, _| Ok(Arc::new(intercom::SCHEME)),
    },
    Registration {
        name: "typeform",
        keys: &[],
        build: |_, _| Ok(Arc::new(typeform::SCHEME)),
    },
    Registration {
        name: "calendly",
        keys: &[],
        build: |_, _| Ok(Arc::new(calendly::Calendly)),
    },
    Registration {
        name: "vercel",
        keys: &[],
        build: |_, _| Ok(Arc::new(vercel::SCHEME)),
    },
    Registration {
        name: "sentry",
        keys: &[],
        build: |_, _| Ok(Arc::new(sentry::SCHEME)),
    },
    Registration {
        name: "bitbucket",
        keys: &[],
        build: |_, _| Ok(Arc::new(bitbucket::SCHEME)),
    },
    Registration {
        name: "jira",
        keys: &[],
        build: |_, _| Ok(Arc::new(jira::SCHEME)),
    },
    Registration {
        name: "lemon-squeezy",
        keys: &[],
        build: |_, _| Ok(Arc::new(lemon_squeezy::SCHEME)),
    },
    Registration {
        name: "paystack",
        keys: &[],
        build: |_, _| Ok(Arc::new(paystack::SCHEME)),
    },
    Registration {
        name: "razorpay",
        keys: &[],
        build: |_, _| Ok(Arc::new(razorpay::SCHEME)),
    },
    Registration {
        name: "woocommerce",
        keys: &[],
        build: |_, _| Ok(Arc::new(woocommerce::Woocommerce)),
    },
    Registration {
        name: "pagerduty",
        keys: &[],
        build: |_, _| Ok(Arc::new(pagerduty::SCHEME)),
    },
    Registration {
        name: "zendesk",
        keys: &[],
        build: |_, _| Ok(Arc::new(zendesk::Zendesk)),
    },
    Registration {
        name: "mux",
        keys: &[],
        build: |_, _| Ok(Arc::new(mux::Mux)),
    },
    Registration {
        name: "docusign",
        keys: &[],
        build: |_, _| Ok(Arc::new(docusign::Docusign)),
    },
    // Clerk and Resend sign with Svix: Standard Webhooks with `svix-*` headers.
    Registration {
        name: "clerk",
        keys: standard::KEYS,
        build: |source, key| standard::StandardWebhooks::build(source, key, "svix"),
    },
    Registration {
        name: "resend",
        keys: standard::KEYS,
        build: |source, key| standard::StandardWebhooks::build(source, key, "svix"),
    },
    Registration {
        name: "basic-auth",
        keys: &["event_id_pointer", "event_type_pointer"],
        build: |source, key| {
            Ok(Arc::new(basic_auth::BasicAuth {
                pointers: kit::Pointers::from_config(source, key)?,
            }))
        },
    },
    Registration {
        name: "header-token",
        keys: &["token_header", "event_id_pointer", "event_type_pointer"],
        build: |source, key| {
            Ok(Arc::new(header_token::HeaderToken {
                header: token_header(source, key)?,
                pointers: kit::Pointers::from_config(source, key)?,
            }))
        },
    },
    Registration {
        name: "discord",
        keys: &["public_keys", "signing_key"],
        build: |source, key| Ok(Arc::new(discord::Discord::from_config(source, key)?)),
    },
    Registration {
        name: "sendgrid",
        keys: &["public_keys", "signing_key"],
        build: |source, key| Ok(Arc::new(sendgrid::Sendgrid::from_config(source, key)?)),
    },
    Registration {
        name: "twitch",
        keys: &[],
        build: |_, _| Ok(Arc::new(twitch::Twitch)),
    },
    Registration {
        name: "zoom",
        keys: &[],
        build: |_, _| Ok(Arc::new(zoom::Zoom)),
    },
    Registration {
        name: "dropbox",
        keys: &[],
        build: |_, _| Ok(Arc::new(dropbox::Dropbox)),
    },
    Registration {
        name: "microsoft-graph",
        keys: &[],
        build: |_, _| Ok(Arc::new(graph::Graph)),
    },
    Registration {
        name: "aws-sns",
        keys: sns::KEYS,
        build: |source, key| Ok(Arc::new(sns::Sns::from_config(source, key)?)),
    },
    // Providers III: payments, Meta and messaging
    Registration {
        name: "meta",
        keys: &["verify_token"],
        build: |source, key| Ok(Arc::new(meta::Meta::from_config(source, key)?)),
    },
    // Aliases of `meta`: one provider, counted once.
    Registration {
        name: "whatsapp",
        keys: &["verify_token"],
        build: |source, key| Ok(Arc::new(meta::Meta::from_config(source, key)?)),
    },
    Registration {
        name: "instagram",
        keys: &["verify_token"],
        build: |source, key| Ok(Arc::new(meta::Meta::from_config(source, key)?)),
    },
    Registration {
        name: "messenger",
        keys: &["verify_token"],
        build: |source, key| Ok(Arc::new(meta::Meta::from_config(source, key)?)),
    },
    Registration {
        name: "adyen",
        keys: &[],
        build: |_, _| Ok(Arc::new(adyen::Adyen)),
    },
    Registration {
        name: "braintree",
        keys: &[],
        build: |_, _| Ok(Arc::new(braintree::Braintree)),
    },
    Registration {
        name: "paypal",
        keys: paypal::KEYS,
        build: |source, key| Ok(Arc::new(paypal::Paypal::from_config(source, key)?)),
    },
    Registration {
        name: "checkout-com",
        keys: &[],
        build: |_, _| Ok(Arc::new(checkout_com::SCHEME)),
    },
    Registration {
        name: "gocardless",
        keys: &[],
        build: |_, _| Ok(Arc::new(gocardless::SCHEME)),
    },
    Registration {
        name: "coinbase-commerce",
        keys: &[],
        build: |_, _| Ok(Arc::new(coinbase_commerce::SCHEME)),
    },
    Registration {
        name: "recurly",
        keys: &[],
        build: |_, _| Ok(Arc::new(recurly::Recurly)),
    },
    Registration {
        name: "mercado-pago",
        keys: &[],
        build: |_, _| Ok(Arc::new(mercado_pago::MercadoPago)),
    },
    Registration {
        name: "cashfree",
        keys: &[],
        build: |_, _| Ok(Arc::new(cashfree::Cashfree)),
    },
    Registration {
        name: "mollie",
        keys: &[],
        build: |_, _| Ok(Arc::new(mollie::SCHEME)),
    },
    Registration {
        name: "telnyx",
        keys: &["public_keys", "signing_key"],
        build: |source, key| Ok(Arc::new(telnyx::Telnyx::from_config(source, key)?)),
    },
    Registration {
        name: "telegram",
        keys: &[],
        build: |_, _| Ok(Arc::new(telegram::Telegram)),
    },
    Registration {
        name: "line",
        keys: &[],
        build: |_, _| Ok(Arc::new(line::SCHEME)),
    },
    Registration {
        name: "viber",
        keys: &[],
        build: |_, _| Ok(Arc::new(viber::SCHEME)),
    },
    Registration {
        name: "mandrill",
        keys: &["public_url"],
        build: |source, key| Ok(Arc::new(mandrill::Mandrill::from_config(source, key)?)),
    },
    Registration {
        name: "plivo",
        keys: &["public_url"],
        build: |source, key| Ok(Arc::new(plivo::Plivo::from_config(source, key)?)),
    },
    Registration {
        name: "vonage",
        keys: &[],
        build: |_, _| Ok(Arc::new(vonage::Vonage)),
    },
    Registration {
        name: "messagebird",
        keys: &["public_url"],
        build: |source, key| {
            Ok(Arc::new(messagebird::Messagebird::from_config(
                source, key,
            )?))
        },
    },
    // Providers III: developer tools and workplace apps
    Registration {
        name: "webex",
        keys: &[],
        build: |_, _| Ok(Arc::new(webex::SCHEME)),
    },
    Registration {
        name: "gitea",
        keys: &[],
        build: |_, _| Ok(Arc::new(gitea::SCHEME)),
    },
    // Forgejo sends Gitea's headers (beside its own X-Forgejo-* copies).
    Registration {
        name: "forgejo",
        keys: &[],
        build: |_, _| Ok(Arc::new(gitea::SCHEME)),
    },
    Registration {
        name: "circleci",
        keys: &[],
        build: |_, _| Ok(Arc::new(circleci::SCHEME)),
    },
    Registration {
        name: "buildkite",
        keys: &[],
        build: |_, _| Ok(Arc::new(buildkite::SCHEME)),
    },
    Registration {
        name: "heroku",
        keys: &[],
        build: |_, _| Ok(Arc::new(heroku::SCHEME)),
    },
    Registration {
        name: "launchdarkly",
        keys: &[],
        build: |_, _| Ok(Arc::new(launchdarkly::SCHEME)),
    },
    Registration {
        name: "microsoft-teams",
        keys: &[],
        build: |_, _| Ok(Arc::new(microsoft_teams::SCHEME)),
    },
    Registration {
        name: "customer-io",
        keys: &[],
        build: |_, _| Ok(Arc::new(customer_io::SCHEME)),
    },
    Registration {
        name: "segment",
        keys: &[],
        build: |_, _| Ok(Arc::new(segment::SCHEME)),
    },
    Registration {
        name: "nylas",
        keys: &[],
        build: |_, _| Ok(Arc::new(nylas::Nylas)),
    },
    Registration {
        name: "xero",
        keys: &[],
        build: |_, _| Ok(Arc::new(xero::SCHEME)),
    },
    Registration {
        name: "airtable",
        keys: &[],
        build: |_, _| Ok(Arc::new(airtable::SCHEME)),
    },
    Registration {
        name: "webflow",
        keys: &[],
        build: |_, _| Ok(Arc::new(webflow::SCHEME)),
    },
    Registration {
        name: "clickup",
        keys: &[],
        build: |_, _| Ok(Arc::new(clickup::SCHEME)),
    },
    Registration {
        name: "cal-com",
        keys: &[],
        build: |_, _| Ok(Arc::new(cal_com::SCHEME)),
    },
    Registration {
        name: "ghost",
        keys: &[],
        build: |_, _| Ok(Arc::new(ghost::SCHEME)),
    },
    Registration {
        name: "sanity",
        keys: &[],
        build: |_, _| Ok(Arc::new(sanity::SCHEME)),
    },
    Registration {
        name: "tally",
        keys: &[],
        build: |_, _| Ok(Arc::new(tally::SCHEME)),
    },
    Registration {
        name: "fastspring",
        keys: &[],
        build: |_, _| Ok(Arc::new(fastspring::SCHEME)),
    },
    Registration {
        name: "easypost",
        keys: &[],
        build: |_, _| Ok(Arc::new(easypost::SCHEME)),
    },
    Registration {
        name: "patreon",
        keys: &[],
        build: |_, _| Ok(Arc::new(patreon::SCHEME)),
    },
    Registration {
        name: "okta",
        keys: &["token_header"],
        build: |source, key| Ok(Arc::new(okta::Okta::from_config(source, key)?)),
    },
    Registration {
        name: "box",
        keys: &[],
        build: |_, _| Ok(Arc::new(box_com::BoxCom)),
    },
    Registration {
        name: "trello",
        keys: &["public_url"],
        build: |source, key| Ok(Arc::new(trello::Trello::from_config(source, key)?)),
    },
    Registration {
        name: "hygraph",
        keys: &[],
        build: |_, _| Ok(Arc::new(hygraph::Hygraph)),
    },
    Registration {
        name: "netlify",
        keys: &[],
        build: |_, _| Ok(Arc::new(netlify::Netlify)),
    },
    Registration {
        name: "monday",
        keys: &[],
        build: |_, _| Ok(Arc::new(monday::Monday)),
    },
    Registration {
        name: "contentful",
        keys: &["public_url"],
        build: |source, key| Ok(Arc::new(contentful::Contentful::from_config(source, key)?)),
    },
];

/// The provider names accepted in `sources[].provider`.
pub fn provider_names() -> impl Iterator<Item = &'static str> {
    PROVIDERS.iter().map(|r| r.name)
}

/// `public_url`: the exact URL registered with a provider that signs the
/// URL; an absolute `http(s)` URL.
pub fn public_url(source: &SourceConfig, key: &str) -> Result<String, ConfigError> {
    let url = source.public_url.as_deref().ok_or_else(|| {
        ConfigError::new(
            format!("{key}.public_url"),
            format!(
                "provider {:?} signs the URL it posts to: set public_url to the exact URL registered with it",
                source.provider
            ),
        )
    })?;
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(url.to_string())
        }
        _ => Err(ConfigError::new(
            format!("{key}.public_url"),
            format!("{url:?} is not an absolute http(s) URL"),
        )),
    }
}

/// `token_header`: the header a static token arrives in, lower-cased.
pub fn token_header(source: &SourceConfig, key: &str) -> Result<String, ConfigError> {
    let name = source.token_header.as_deref().ok_or_else(|| {
        ConfigError::new(
            format!("{key}.token_header"),
            "name the header that carries the token",
        )
    })?;
    HeaderName::from_bytes(name.as_bytes())
        .map(|h| h.as_str().to_string())
        .map_err(|_| {
            ConfigError::new(
                format!("{key}.token_header"),
                format!("{name:?} is not a valid header name"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(extra: &str) -> SourceConfig {
        toml::from_str(&format!(
            "name = \"s\"\nprovider = \"x\"\nsecrets = [\"k\"]\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn public_url_and_token_header_are_validated_naming_the_key() {
        let ok = source("public_url = \"https://hooks.example.com/ingest/s?x=1\"");
        assert_eq!(
            public_url(&ok, "sources[0]").unwrap(),
            "https://hooks.example.com/ingest/s?x=1"
        );
        for bad in [
            "",
            "public_url = \"/ingest/s\"",
            "public_url = \"ftp://h/x\"",
        ] {
            let err = public_url(&source(bad), "sources[0]").unwrap_err();
            assert_eq!(err.key, "sources[0].public_url", "{bad}: {err}");
        }
        let ok = source("token_header = \"X-Webhook-Token\"");
        assert_eq!(token_header(&ok, "sources[0]").unwrap(), "x-webhook-token");
        for bad in ["", "token_header = \"bad header\""] {
            let err = token_header(&source(bad), "sources[0]").unwrap_err();
            assert_eq!(err.key, "sources[0].token_header", "{bad}: {err}");
        }
    }

    #[test]
    fn registry_names_are_unique() {
        let mut names: Vec<&str> = provider_names().collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }
}
