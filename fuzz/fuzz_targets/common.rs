//! The sources both targets verify against, one per provider.

use hookgate::config::SourceConfig;
use hookgate::providers::{Keys, Provider};

pub fn sources() -> Vec<(Provider, Keys, &'static str)> {
    [
        ("stripe", "whsec_fuzz", "", "stripe-signature"),
        ("github", "fuzz", "", "x-hub-signature-256"),
        ("svix", "whsec_ZnV6eg==", "", "webhook-signature"),
        ("shopify", "fuzz", "", "x-shopify-hmac-sha256"),
        ("slack", "fuzz", "", "x-slack-signature"),
        ("gitlab", "fuzz", "", "x-gitlab-token"),
        (
            "generic-hmac",
            "fuzz",
            "signature_header = \"X-Sig\"\nsignature_prefix = \"sha256=\"\ntimestamp_header = \"X-Ts\"\nevent_id_pointer = \"/id\"\n",
            "x-sig",
        ),
    ]
    .into_iter()
    .map(|(provider, secret, extra, header)| {
        let text = format!("name = \"f\"\nprovider = \"{provider}\"\nsecrets = [\"{secret}\"]\n{extra}");
        let source: SourceConfig = toml::from_str(&text).expect("a valid source");
        let (p, k) = Provider::from_config(&source, "sources[0]").expect("a valid provider");
        (p, k, header)
    })
    .collect()
}
