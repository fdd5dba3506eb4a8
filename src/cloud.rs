//! Endpoints and host-name suffixes per Azure cloud.
//!
//! Values follow azure-cli's `azure/cli/core/cloud.py` (`resource_manager`, `active_directory`,
//! `microsoft_graph_resource_id`, `suffixes.storage_endpoint`) and the Azure SDK authority hosts;
//! APIM and App Service suffixes follow hashicorp/go-azure-sdk `environments/*.go`.
//! The App Service (SCM/Kudu) token resource is only verified for the public cloud; see
//! [`Cloud::app_service_scope`].

use crate::settings::CloudName;
use azure_core::cloud::CloudConfiguration;
use url::Url;

/// Everything apimfn needs to know about one Azure cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    pub name: CloudName,
    /// Azure Resource Manager, with a trailing slash: `https://management.azure.com/`.
    pub arm_endpoint: &'static str,
    /// Token scope for ARM.
    pub arm_scope: &'static str,
    /// Microsoft Entra authority host, no trailing slash: `https://login.microsoftonline.com`.
    pub authority_host: &'static str,
    /// Microsoft Graph, no trailing slash: `https://graph.microsoft.com`.
    pub graph_endpoint: &'static str,
    /// Token scope for Microsoft Graph.
    pub graph_scope: &'static str,
    /// Token scope for the SCM (Kudu) site of an app.
    pub app_service_scope: &'static str,
    /// API Management gateway suffix: `{apim}.azure-api.net`.
    pub apim_suffix: &'static str,
    /// App Service suffix: `{app}.azurewebsites.net`, `{app}.scm.azurewebsites.net`.
    pub web_suffix: &'static str,
    /// Storage suffix: `{account}.blob.core.windows.net`.
    pub storage_suffix: &'static str,
}

const PUBLIC: Cloud = Cloud {
    name: CloudName::AzureCloud,
    arm_endpoint: "https://management.azure.com/",
    arm_scope: "https://management.azure.com/.default",
    authority_host: "https://login.microsoftonline.com",
    graph_endpoint: "https://graph.microsoft.com",
    graph_scope: "https://graph.microsoft.com/.default",
    app_service_scope: "https://appservice.azure.com/.default",
    apim_suffix: "azure-api.net",
    web_suffix: "azurewebsites.net",
    storage_suffix: "core.windows.net",
};

// For the sovereign clouds no App Service resource id could be verified; Kudu also accepts
// ARM-audience tokens (what `az account get-access-token` returns by default), so the ARM scope
// is used there.
const CHINA: Cloud = Cloud {
    name: CloudName::AzureChinaCloud,
    arm_endpoint: "https://management.chinacloudapi.cn/",
    arm_scope: "https://management.chinacloudapi.cn/.default",
    authority_host: "https://login.chinacloudapi.cn",
    graph_endpoint: "https://microsoftgraph.chinacloudapi.cn",
    graph_scope: "https://microsoftgraph.chinacloudapi.cn/.default",
    app_service_scope: "https://management.chinacloudapi.cn/.default",
    apim_suffix: "azure-api.cn",
    web_suffix: "chinacloudsites.cn",
    storage_suffix: "core.chinacloudapi.cn",
};

const US_GOV: Cloud = Cloud {
    name: CloudName::AzureUSGovernment,
    arm_endpoint: "https://management.usgovcloudapi.net/",
    arm_scope: "https://management.usgovcloudapi.net/.default",
    authority_host: "https://login.microsoftonline.us",
    graph_endpoint: "https://graph.microsoft.us",
    graph_scope: "https://graph.microsoft.us/.default",
    app_service_scope: "https://management.usgovcloudapi.net/.default",
    apim_suffix: "azure-api.us",
    web_suffix: "azurewebsites.us",
    storage_suffix: "core.usgovcloudapi.net",
};

impl Cloud {
    pub fn new(name: CloudName) -> Self {
        match name {
            CloudName::AzureCloud => PUBLIC,
            CloudName::AzureChinaCloud => CHINA,
            CloudName::AzureUSGovernment => US_GOV,
        }
    }

    /// Every cloud apimfn knows.
    pub fn all() -> [Cloud; 3] {
        [PUBLIC, CHINA, US_GOV]
    }

    /// The ARM endpoint as a URL (trailing slash, so `join("subscriptions/...")` works).
    pub fn arm_url(&self) -> Url {
        parse_const(self.arm_endpoint)
    }

    /// The Graph endpoint as a URL.
    pub fn graph_url(&self) -> Url {
        parse_const(self.graph_endpoint)
    }

    /// The authority host as a URL.
    pub fn authority_url(&self) -> Url {
        parse_const(self.authority_host)
    }

    /// `{apim}.azure-api.net`
    pub fn apim_gateway_host(&self, apim: &str) -> String {
        format!("{apim}.{}", self.apim_suffix)
    }

    /// `{app}.azurewebsites.net`
    pub fn web_host(&self, app: &str) -> String {
        format!("{app}.{}", self.web_suffix)
    }

    /// `{app}.scm.azurewebsites.net`
    pub fn scm_host(&self, app: &str) -> String {
        format!("{app}.scm.{}", self.web_suffix)
    }

    /// `{account}.blob.core.windows.net`
    pub fn blob_host(&self, account: &str) -> String {
        format!("{account}.blob.{}", self.storage_suffix)
    }

    /// The exact host names of this cloud's fixed endpoints (ARM, login, Graph).
    pub fn fixed_hosts(&self) -> [&'static str; 3] {
        [
            strip_scheme(self.arm_endpoint),
            strip_scheme(self.authority_host),
            strip_scheme(self.graph_endpoint),
        ]
    }

    /// The suffixes under which this cloud's per-resource hosts live.
    pub fn host_suffixes(&self) -> [&'static str; 3] {
        [self.apim_suffix, self.web_suffix, self.storage_suffix]
    }

    /// Whether `host` is one of this cloud's hosts: ARM, login, Graph, or anything under the
    /// APIM, App Service (incl. `*.scm.`) or storage suffixes. Case and a trailing dot are ignored.
    pub fn is_azure_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() {
            return false;
        }
        self.fixed_hosts().contains(&host.as_str())
            || self.host_suffixes().iter().any(|suffix| {
                host.len() > suffix.len() + 1
                    && host.ends_with(suffix)
                    && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
            })
    }

    /// The azure_core view of this cloud (used by azure_identity for the authority host).
    pub fn to_azure_core(&self) -> CloudConfiguration {
        match self.name {
            CloudName::AzureCloud => CloudConfiguration::AzurePublic,
            CloudName::AzureChinaCloud => CloudConfiguration::AzureChina,
            CloudName::AzureUSGovernment => CloudConfiguration::AzureGovernment,
        }
    }
}

impl From<CloudName> for Cloud {
    fn from(name: CloudName) -> Self {
        Cloud::new(name)
    }
}

fn strip_scheme(url: &'static str) -> &'static str {
    url.trim_start_matches("https://").trim_end_matches('/')
}

/// The constants above are valid URLs; a test below parses every one of them.
fn parse_const(s: &'static str) -> Url {
    Url::parse(s).unwrap_or_else(|_| unreachable!("constant URL {s} is valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constant_parses_and_scopes_match_endpoints() {
        for c in Cloud::all() {
            for u in [c.arm_endpoint, c.authority_host, c.graph_endpoint] {
                let url = Url::parse(u).expect("valid");
                assert_eq!(url.scheme(), "https");
            }
            assert_eq!(c.arm_scope, format!("{}.default", c.arm_endpoint));
            assert_eq!(c.graph_scope, format!("{}/.default", c.graph_endpoint));
            assert!(c.app_service_scope.ends_with("/.default"));
            assert_eq!(Cloud::new(c.name), c);
        }
    }

    #[test]
    fn public_cloud_hosts_are_recognised() {
        let c = Cloud::new(CloudName::AzureCloud);
        for h in [
            "management.azure.com",
            "login.microsoftonline.com",
            "graph.microsoft.com",
            "myapim.azure-api.net",
            "myapp.azurewebsites.net",
            "myapp.scm.azurewebsites.net",
            "mystorage.blob.core.windows.net",
            "MANAGEMENT.AZURE.COM.",
        ] {
            assert!(c.is_azure_host(h), "{h}");
        }
        for h in [
            "azure-api.net",
            "evilazure-api.net",
            "management.azure.com.evil.example",
            "example.com",
            "localhost",
            "127.0.0.1",
            "management.chinacloudapi.cn",
            "",
        ] {
            assert!(!c.is_azure_host(h), "{h}");
        }
    }

    #[test]
    fn sovereign_clouds_have_their_own_hosts() {
        let cn = Cloud::new(CloudName::AzureChinaCloud);
        assert!(cn.is_azure_host("management.chinacloudapi.cn"));
        assert!(cn.is_azure_host("login.chinacloudapi.cn"));
        assert!(cn.is_azure_host("microsoftgraph.chinacloudapi.cn"));
        assert!(cn.is_azure_host("x.azure-api.cn"));
        assert!(cn.is_azure_host("x.scm.chinacloudsites.cn"));
        assert!(cn.is_azure_host("x.blob.core.chinacloudapi.cn"));
        assert!(!cn.is_azure_host("management.azure.com"));
        let gov = Cloud::new(CloudName::AzureUSGovernment);
        assert!(gov.is_azure_host("management.usgovcloudapi.net"));
        assert!(gov.is_azure_host("login.microsoftonline.us"));
        assert!(gov.is_azure_host("graph.microsoft.us"));
        assert!(gov.is_azure_host("x.azure-api.us"));
        assert!(gov.is_azure_host("x.scm.azurewebsites.us"));
        assert!(gov.is_azure_host("x.blob.core.usgovcloudapi.net"));
        assert!(!gov.is_azure_host("x.azurewebsites.net"));
    }

    #[test]
    fn derived_hosts_and_azure_core_mapping() {
        let c = Cloud::new(CloudName::AzureCloud);
        assert_eq!(c.scm_host("app"), "app.scm.azurewebsites.net");
        assert_eq!(c.blob_host("st"), "st.blob.core.windows.net");
        assert_eq!(c.apim_gateway_host("a"), "a.azure-api.net");
        assert_eq!(
            c.arm_url().join("subscriptions").expect("join").as_str(),
            "https://management.azure.com/subscriptions"
        );
        assert_eq!(c.to_azure_core(), CloudConfiguration::AzurePublic);
        assert_eq!(
            Cloud::new(CloudName::AzureChinaCloud).to_azure_core(),
            CloudConfiguration::AzureChina
        );
    }
}
