//! Strict request validation: the property names and JSON types each resource type accepts in a
//! PUT/PATCH body.
//!
//! Real ARM accepts unknown property names and silently drops them, so a misspelt
//! `functionAppConfig.runtime.nmae` provisions an app without the setting the client meant to
//! send. With `--strict` (the default in tests) the emulator answers 400 instead, naming every
//! unknown or mistyped property by its JSON path.
//!
//! The tables below are the emulator's own copy of facts from the REST specs and the Python SDK
//! models (`specs/derived-from-python-sdk/wire-field-names.json`: azure-mgmt-web 11.0.1 at
//! 2025-05-01 and azure-mgmt-apimanagement 5.0.0 at 2024-05-01; the Storage and Authorization
//! models from the spec examples `StorageAccountCreate.json`, `BlobContainersPut.json`,
//! `RoleAssignments_CreateForResource.json` and the azure-mgmt-storage / azure-mgmt-authorization
//! models). Read-only properties (`Ro`: `id`, `name`, `type`, `etag`, `systemData`,
//! `provisioningState`, `principalId`, …) are accepted and ignored, as Azure ignores them.
//! Nested models the emulator does not use are `Any` (not checked inside), and free-form maps
//! (`tags`, app settings, `credentials.header`) are `Map`.
//!
//! The answer is ARM's deserialisation failure, `400 InvalidRequestContent`, with the message
//! Newtonsoft.Json (which ARM front ends use) writes for a missing member or a wrong type, one
//! `details` entry per problem with its path as `target`. Property names match case-insensitively,
//! as Newtonsoft matches them.

use super::Call;
use crate::http::json_response;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

/// The shape of one JSON value.
#[derive(Debug, Clone, Copy)]
pub enum S {
    Str,
    Bool,
    /// An integer.
    Int,
    /// Any number.
    Num,
    /// Anything; not checked inside (nested models the emulator does not use).
    Any,
    /// A free-form JSON object (tags, app settings, `credentials.header`).
    Map,
    /// Read-only: accepted and ignored whatever it holds.
    Ro,
    Arr(&'static S),
    /// A model: its name (for messages) and its properties.
    Obj(&'static str, &'static [(&'static str, S)]),
    /// A map from free-form keys to values of one shape (`userAssignedIdentities`).
    MapOf(&'static S),
    /// A property known from this api-version on (unknown before it).
    Since(&'static str, &'static S),
}

use S::{Any, Arr, Bool, Int, Map, MapOf, Num, Obj, Ro, Since, Str};

/// One problem found in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

fn type_name(s: &S) -> &'static str {
    match s {
        Str => "System.String",
        Bool => "System.Boolean",
        Int => "System.Int32",
        Num => "System.Double",
        Arr(_) => "System.Collections.Generic.List",
        Obj(name, _) => name,
        Map | MapOf(_) => "System.Collections.Generic.Dictionary",
        Any | Ro | Since(..) => "System.Object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Walk `v` against `s`, collecting problems. `null` is accepted for every optional property.
pub fn walk(s: &S, v: &Value, path: &str, api: &str, out: &mut Vec<Problem>) {
    if v.is_null() {
        return;
    }
    let ok = match s {
        Any | Ro => true,
        Str => v.is_string(),
        Bool => v.is_boolean(),
        Int => v.is_i64() || v.is_u64(),
        Num => v.is_number(),
        Map => v.is_object(),
        Since(_, inner) => {
            walk(inner, v, path, api, out);
            true
        }
        Arr(item) => match v.as_array() {
            Some(items) => {
                for (i, x) in items.iter().enumerate() {
                    walk(item, x, &format!("{path}[{i}]"), api, out);
                }
                true
            }
            None => false,
        },
        MapOf(item) => match v.as_object() {
            Some(m) => {
                for (k, x) in m {
                    walk(item, x, &join(path, k), api, out);
                }
                true
            }
            None => false,
        },
        Obj(name, fields) => match v.as_object() {
            Some(m) => {
                for (k, x) in m {
                    if path.is_empty()
                        && ENVELOPE_READ_ONLY.iter().any(|e| e.eq_ignore_ascii_case(k))
                    {
                        continue;
                    }
                    let here = join(path, k);
                    let known = fields
                        .iter()
                        .find(|(f, _)| f.eq_ignore_ascii_case(k))
                        .filter(|(_, fs)| match fs {
                            Since(from, _) => api >= *from,
                            _ => true,
                        });
                    match known {
                        Some((_, fs)) => walk(fs, x, &here, api, out),
                        None => out.push(Problem {
                            message: format!(
                                "Could not find member '{k}' on object of type '{name}'. Path '{here}'."
                            ),
                            path: here,
                        }),
                    }
                }
                true
            }
            None => false,
        },
    };
    if !ok {
        out.push(Problem {
            path: path.to_string(),
            message: format!(
                "Error converting value {v} to type '{}'. Path '{path}'.",
                type_name(s)
            ),
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Shared pieces.

/// ARM's read-only envelope fields: accepted at the top level of every body, whatever the model
/// (a client PUTting back what it read sends them).
const ENVELOPE_READ_ONLY: &[&str] = &["id", "name", "type", "etag", "systemData"];

const ID: (&str, S) = ("id", Ro);
const NAME: (&str, S) = ("name", Ro);
const TYPE: (&str, S) = ("type", Ro);
const SYSTEM_DATA: (&str, S) = ("systemData", Ro);
const ETAG: (&str, S) = ("etag", Ro);
const PROVISIONING: (&str, S) = ("provisioningState", Ro);

const USER_ASSIGNED: S = Obj(
    "UserAssignedIdentity",
    &[("principalId", Ro), ("clientId", Ro)],
);
/// ARM's common `ManagedServiceIdentity` (Web, Storage, APIM's own copy).
const IDENTITY: S = Obj(
    "ManagedServiceIdentity",
    &[
        ("type", Str),
        ("principalId", Ro),
        ("tenantId", Ro),
        ("userAssignedIdentities", MapOf(&USER_ASSIGNED)),
    ],
);
const STRINGS: S = Arr(&Str);

// ---------------------------------------------------------------------------------------------
// Microsoft.Resources.

const RESOURCE_GROUP: S = Obj(
    "ResourceGroup",
    &[
        ID,
        NAME,
        TYPE,
        ("location", Str),
        ("managedBy", Str),
        ("tags", Map),
        (
            "properties",
            Obj("ResourceGroupProperties", &[PROVISIONING]),
        ),
    ],
);

// ---------------------------------------------------------------------------------------------
// Microsoft.ApiManagement 2024-05-01 (wire-field-names.json, azure-mgmt-apimanagement 5.0.0).

const APIM_SERVICE: S = Obj(
    "ApiManagementServiceResource",
    &[
        ID,
        NAME,
        TYPE,
        SYSTEM_DATA,
        ETAG,
        ("tags", Map),
        (
            "sku",
            Obj(
                "ApiManagementServiceSkuProperties",
                &[("name", Str), ("capacity", Int)],
            ),
        ),
        ("identity", IDENTITY),
        ("location", Str),
        ("zones", STRINGS),
        (
            "properties",
            Obj(
                "ApiManagementServiceProperties",
                &[
                    ("notificationSenderEmail", Str),
                    PROVISIONING,
                    ("targetProvisioningState", Ro),
                    ("createdAtUtc", Ro),
                    ("gatewayUrl", Ro),
                    ("gatewayRegionalUrl", Ro),
                    ("portalUrl", Ro),
                    ("managementApiUrl", Ro),
                    ("scmUrl", Ro),
                    ("developerPortalUrl", Ro),
                    ("hostnameConfigurations", Arr(&Any)),
                    ("publicIPAddresses", Ro),
                    ("privateIPAddresses", Ro),
                    ("publicIpAddressId", Str),
                    ("publicNetworkAccess", Str),
                    ("configurationApi", Any),
                    ("virtualNetworkConfiguration", Any),
                    ("additionalLocations", Arr(&Any)),
                    ("customProperties", Map),
                    ("certificates", Arr(&Any)),
                    ("enableClientCertificate", Bool),
                    ("natGatewayState", Str),
                    ("outboundPublicIPAddresses", Ro),
                    ("disableGateway", Bool),
                    ("virtualNetworkType", Str),
                    ("apiVersionConstraint", Any),
                    ("restore", Bool),
                    ("privateEndpointConnections", Arr(&Any)),
                    ("platformVersion", Ro),
                    ("legacyPortalStatus", Str),
                    ("developerPortalStatus", Str),
                    ("publisherEmail", Str),
                    ("publisherName", Str),
                ],
            ),
        ),
    ],
);

const APIM_API: S = Obj(
    "ApiCreateOrUpdateParameter",
    &[
        ID,
        NAME,
        TYPE,
        (
            "properties",
            Obj(
                "ApiCreateOrUpdateProperties",
                &[
                    ("description", Str),
                    ("authenticationSettings", Any),
                    (
                        "subscriptionKeyParameterNames",
                        Obj(
                            "SubscriptionKeyParameterNamesContract",
                            &[("header", Str), ("query", Str)],
                        ),
                    ),
                    ("type", Str),
                    ("apiRevision", Str),
                    ("apiVersion", Str),
                    ("isCurrent", Bool),
                    ("isOnline", Ro),
                    ("apiRevisionDescription", Str),
                    ("apiVersionDescription", Str),
                    ("apiVersionSetId", Str),
                    ("subscriptionRequired", Bool),
                    ("termsOfServiceUrl", Str),
                    (
                        "contact",
                        Obj(
                            "ApiContactInformation",
                            &[("name", Str), ("url", Str), ("email", Str)],
                        ),
                    ),
                    (
                        "license",
                        Obj("ApiLicenseInformation", &[("name", Str), ("url", Str)]),
                    ),
                    ("sourceApiId", Str),
                    ("displayName", Str),
                    ("serviceUrl", Str),
                    ("path", Str),
                    ("protocols", STRINGS),
                    ("apiVersionSet", Any),
                    PROVISIONING,
                    ("value", Str),
                    ("format", Str),
                    ("wsdlSelector", Any),
                    ("apiType", Str),
                    ("translateRequiredQueryParameters", Str),
                ],
            ),
        ),
    ],
);

const APIM_PARAMETER: S = Obj(
    "ParameterContract",
    &[
        ("name", Str),
        ("description", Str),
        ("type", Str),
        ("defaultValue", Str),
        ("required", Bool),
        ("values", STRINGS),
        ("schemaId", Str),
        ("typeName", Str),
        ("examples", Map),
    ],
);

const APIM_OPERATION: S = Obj(
    "OperationContract",
    &[
        ID,
        NAME,
        TYPE,
        (
            "properties",
            Obj(
                "OperationContractProperties",
                &[
                    ("templateParameters", Arr(&APIM_PARAMETER)),
                    ("description", Str),
                    ("request", Any),
                    ("responses", Arr(&Any)),
                    ("policies", Str),
                    ("displayName", Str),
                    ("method", Str),
                    ("urlTemplate", Str),
                ],
            ),
        ),
    ],
);

const APIM_POLICY: S = Obj(
    "PolicyContract",
    &[
        ID,
        NAME,
        TYPE,
        (
            "properties",
            Obj(
                "PolicyContractProperties",
                &[("value", Str), ("format", Str)],
            ),
        ),
    ],
);

const APIM_BACKEND: S = Obj(
    "BackendContract",
    &[
        ID,
        NAME,
        TYPE,
        (
            "properties",
            Obj(
                "BackendContractProperties",
                &[
                    ("title", Str),
                    ("description", Str),
                    ("resourceId", Str),
                    ("properties", Any),
                    (
                        "credentials",
                        Obj(
                            "BackendCredentialsContract",
                            &[
                                ("certificateIds", STRINGS),
                                ("certificate", STRINGS),
                                ("query", Map),
                                ("header", Map),
                                (
                                    "authorization",
                                    Obj(
                                        "BackendAuthorizationHeaderCredentials",
                                        &[("scheme", Str), ("parameter", Str)],
                                    ),
                                ),
                            ],
                        ),
                    ),
                    ("proxy", Any),
                    (
                        "tls",
                        Obj(
                            "BackendTlsProperties",
                            &[
                                ("validateCertificateChain", Bool),
                                ("validateCertificateName", Bool),
                            ],
                        ),
                    ),
                    ("circuitBreaker", Any),
                    ("pool", Any),
                    ("type", Str),
                    ("url", Str),
                    ("protocol", Str),
                ],
            ),
        ),
    ],
);

const APIM_NAMED_VALUE: S = Obj(
    "NamedValueCreateContract",
    &[
        ID,
        NAME,
        TYPE,
        (
            "properties",
            Obj(
                "NamedValueCreateContractProperties",
                &[
                    ("tags", STRINGS),
                    ("secret", Bool),
                    ("displayName", Str),
                    ("value", Str),
                    (
                        "keyVault",
                        Obj(
                            "KeyVaultContractCreateProperties",
                            &[
                                ("secretIdentifier", Str),
                                ("identityClientId", Str),
                                ("lastStatus", Ro),
                            ],
                        ),
                    ),
                    PROVISIONING,
                ],
            ),
        ),
    ],
);

const APIM_SUBSCRIPTION: S = Obj(
    "SubscriptionCreateParameters",
    &[
        ID,
        NAME,
        TYPE,
        (
            "properties",
            Obj(
                "SubscriptionCreateParameterProperties",
                &[
                    ("ownerId", Str),
                    ("scope", Str),
                    ("displayName", Str),
                    ("state", Str),
                    ("createdDate", Ro),
                    ("startDate", Str),
                    ("expirationDate", Str),
                    ("endDate", Str),
                    ("notificationDate", Str),
                    ("primaryKey", Str),
                    ("secondaryKey", Str),
                    ("stateComment", Str),
                    ("allowTracing", Bool),
                ],
            ),
        ),
    ],
);

// ---------------------------------------------------------------------------------------------
// Microsoft.Storage 2025-08-01 (StorageAccountCreate.json, BlobContainersPut.json,
// azure-mgmt-storage StorageAccountCreateParameters / BlobContainer).

pub const STORAGE_ACCOUNT: S = Obj(
    "StorageAccountCreateParameters",
    &[
        ID,
        NAME,
        TYPE,
        SYSTEM_DATA,
        ("sku", Obj("Sku", &[("name", Str), ("tier", Ro)])),
        ("kind", Str),
        ("location", Str),
        (
            "extendedLocation",
            Obj("ExtendedLocation", &[("name", Str), ("type", Str)]),
        ),
        ("zones", STRINGS),
        ("placement", Any),
        ("tags", Map),
        ("identity", IDENTITY),
        (
            "properties",
            Obj(
                "StorageAccountPropertiesCreateParameters",
                &[
                    ("allowedCopyScope", Str),
                    ("publicNetworkAccess", Str),
                    (
                        "sasPolicy",
                        Obj(
                            "SasPolicy",
                            &[("sasExpirationPeriod", Str), ("expirationAction", Str)],
                        ),
                    ),
                    (
                        "keyPolicy",
                        Obj("KeyPolicy", &[("keyExpirationPeriodInDays", Int)]),
                    ),
                    ("customDomain", Any),
                    ("encryption", Any),
                    ("networkAcls", Any),
                    ("accessTier", Str),
                    ("azureFilesIdentityBasedAuthentication", Any),
                    ("supportsHttpsTrafficOnly", Bool),
                    ("isSftpEnabled", Bool),
                    ("isLocalUserEnabled", Bool),
                    ("enableExtendedGroups", Bool),
                    ("isHnsEnabled", Bool),
                    ("largeFileSharesState", Str),
                    ("routingPreference", Any),
                    ("dualStackEndpointPreference", Any),
                    ("allowBlobPublicAccess", Bool),
                    ("minimumTlsVersion", Str),
                    ("allowSharedKeyAccess", Bool),
                    ("isNfsV3Enabled", Bool),
                    ("allowCrossTenantReplication", Bool),
                    ("defaultToOAuthAuthentication", Bool),
                    ("immutableStorageWithVersioning", Any),
                    ("dnsEndpointType", Str),
                    ("geoPriorityReplicationStatus", Any),
                    // What a GET answers, sent back by clients that PUT what they read.
                    PROVISIONING,
                    ("primaryEndpoints", Ro),
                    ("secondaryEndpoints", Ro),
                    ("primaryLocation", Ro),
                    ("secondaryLocation", Ro),
                    ("statusOfPrimary", Ro),
                    ("statusOfSecondary", Ro),
                    ("creationTime", Ro),
                    ("keyCreationTime", Ro),
                    ("lastGeoFailoverTime", Ro),
                    ("privateEndpointConnections", Ro),
                    ("geoReplicationStats", Ro),
                    ("failoverInProgress", Ro),
                    ("blobRestoreStatus", Ro),
                    ("storageAccountSkuConversionStatus", Ro),
                    ("accountMigrationInProgress", Ro),
                    ("isSkuConversionBlocked", Ro),
                ],
            ),
        ),
    ],
);

const BLOB_CONTAINER: S = Obj(
    "BlobContainer",
    &[
        ID,
        NAME,
        TYPE,
        ETAG,
        (
            "properties",
            Obj(
                "ContainerProperties",
                &[
                    ("publicAccess", Str),
                    ("metadata", Map),
                    ("defaultEncryptionScope", Str),
                    ("denyEncryptionScopeOverride", Bool),
                    ("immutableStorageWithVersioning", Any),
                    ("enableNfsV3RootSquash", Bool),
                    ("enableNfsV3AllSquash", Bool),
                    ("version", Ro),
                    ("deleted", Ro),
                    ("deletedTime", Ro),
                    ("remainingRetentionDays", Ro),
                    ("lastModifiedTime", Ro),
                    ("leaseStatus", Ro),
                    ("leaseState", Ro),
                    ("leaseDuration", Ro),
                    ("immutabilityPolicy", Ro),
                    ("legalHold", Ro),
                    ("hasLegalHold", Ro),
                    ("hasImmutabilityPolicy", Ro),
                ],
            ),
        ),
    ],
);

// ---------------------------------------------------------------------------------------------
// Microsoft.Web 2025-05-01 (wire-field-names.json, azure-mgmt-web 11.0.1).

const SKU_DESCRIPTION: S = Obj(
    "SkuDescription",
    &[
        ("name", Str),
        ("tier", Str),
        ("size", Str),
        ("family", Str),
        ("capacity", Int),
        ("skuCapacity", Any),
        ("locations", STRINGS),
        ("capabilities", Arr(&Any)),
    ],
);

const SERVER_FARM: S = Obj(
    "AppServicePlan",
    &[
        ID,
        NAME,
        TYPE,
        SYSTEM_DATA,
        ("tags", Map),
        ("location", Str),
        ("sku", SKU_DESCRIPTION),
        ("extendedLocation", Any),
        ("kind", Str),
        ("identity", IDENTITY),
        (
            "properties",
            Obj(
                "AppServicePlanProperties",
                &[
                    ("workerTierName", Str),
                    ("status", Ro),
                    ("subscription", Ro),
                    ("hostingEnvironmentProfile", Any),
                    ("maximumNumberOfWorkers", Ro),
                    ("numberOfWorkers", Ro),
                    ("geoRegion", Ro),
                    ("perSiteScaling", Bool),
                    ("elasticScaleEnabled", Bool),
                    ("maximumElasticWorkerCount", Int),
                    ("numberOfSites", Ro),
                    ("isSpot", Bool),
                    ("spotExpirationTime", Str),
                    ("freeOfferExpirationTime", Str),
                    ("resourceGroup", Ro),
                    ("reserved", Bool),
                    ("isXenon", Bool),
                    ("hyperV", Bool),
                    ("targetWorkerCount", Int),
                    ("targetWorkerSizeId", Int),
                    PROVISIONING,
                    ("kubeEnvironmentProfile", Any),
                    ("zoneRedundant", Bool),
                    ("asyncScalingEnabled", Bool),
                    ("planDefaultIdentity", Any),
                    ("isCustomMode", Bool),
                    ("registryAdapters", Arr(&Any)),
                    ("installScripts", Arr(&Any)),
                    ("network", Any),
                    ("storageMounts", Arr(&Any)),
                    ("rdpEnabled", Bool),
                ],
            ),
        ),
    ],
);

const NAME_VALUE: S = Obj("NameValuePair", &[("name", Str), ("value", Str)]);

const SITE_CONFIG: S = Obj(
    "SiteConfig",
    &[
        ("numberOfWorkers", Int),
        ("defaultDocuments", STRINGS),
        ("netFrameworkVersion", Str),
        ("phpVersion", Str),
        ("pythonVersion", Str),
        ("nodeVersion", Str),
        ("powerShellVersion", Str),
        ("linuxFxVersion", Str),
        ("windowsFxVersion", Str),
        ("requestTracingEnabled", Bool),
        ("requestTracingExpirationTime", Str),
        ("remoteDebuggingEnabled", Bool),
        ("remoteDebuggingVersion", Str),
        ("httpLoggingEnabled", Bool),
        ("acrUseManagedIdentityCreds", Bool),
        ("acrUserManagedIdentityID", Str),
        ("logsDirectorySizeLimit", Int),
        ("detailedErrorLoggingEnabled", Bool),
        ("publishingUsername", Str),
        ("appSettings", Arr(&NAME_VALUE)),
        ("metadata", Arr(&NAME_VALUE)),
        (
            "connectionStrings",
            Arr(&Obj(
                "ConnStringInfo",
                &[("name", Str), ("connectionString", Str), ("type", Str)],
            )),
        ),
        ("machineKey", Ro),
        ("handlerMappings", Arr(&Any)),
        ("documentRoot", Str),
        ("scmType", Str),
        ("use32BitWorkerProcess", Bool),
        ("webSocketsEnabled", Bool),
        ("alwaysOn", Bool),
        ("javaVersion", Str),
        ("javaContainer", Str),
        ("javaContainerVersion", Str),
        ("appCommandLine", Str),
        ("managedPipelineMode", Str),
        ("virtualApplications", Arr(&Any)),
        ("loadBalancing", Str),
        ("experiments", Any),
        ("limits", Any),
        ("autoHealEnabled", Bool),
        ("autoHealRules", Any),
        ("tracingOptions", Str),
        ("vnetName", Str),
        ("vnetRouteAllEnabled", Bool),
        ("vnetPrivatePortsCount", Int),
        (
            "cors",
            Obj(
                "CorsSettings",
                &[("allowedOrigins", STRINGS), ("supportCredentials", Bool)],
            ),
        ),
        ("push", Any),
        ("apiDefinition", Obj("ApiDefinitionInfo", &[("url", Str)])),
        (
            "apiManagementConfig",
            Obj("ApiManagementConfig", &[("id", Str)]),
        ),
        ("autoSwapSlotName", Str),
        ("localMySqlEnabled", Bool),
        ("managedServiceIdentityId", Int),
        ("xManagedServiceIdentityId", Int),
        ("keyVaultReferenceIdentity", Str),
        ("ipSecurityRestrictions", Arr(&Any)),
        ("ipSecurityRestrictionsDefaultAction", Str),
        ("scmIpSecurityRestrictions", Arr(&Any)),
        ("scmIpSecurityRestrictionsDefaultAction", Str),
        ("scmIpSecurityRestrictionsUseMain", Bool),
        ("http20Enabled", Bool),
        ("http20ProxyFlag", Int),
        ("minTlsVersion", Str),
        ("minTlsCipherSuite", Str),
        ("scmMinTlsVersion", Str),
        ("ftpsState", Str),
        ("preWarmedInstanceCount", Int),
        ("functionAppScaleLimit", Int),
        ("elasticWebAppScaleLimit", Int),
        ("healthCheckPath", Str),
        ("functionsRuntimeScaleMonitoringEnabled", Bool),
        ("websiteTimeZone", Str),
        ("minimumElasticInstanceCount", Int),
        ("azureStorageAccounts", Map),
        ("publicNetworkAccess", Str),
    ],
);

const FUNCTION_APP_CONFIG: S = Obj(
    "FunctionAppConfig",
    &[
        (
            "deployment",
            Obj(
                "FunctionsDeployment",
                &[(
                    "storage",
                    Obj(
                        "FunctionsDeploymentStorage",
                        &[
                            ("type", Str),
                            ("value", Str),
                            (
                                "authentication",
                                Obj(
                                    "FunctionsDeploymentStorageAuthentication",
                                    &[
                                        ("type", Str),
                                        ("userAssignedIdentityResourceId", Str),
                                        ("storageAccountConnectionStringName", Str),
                                    ],
                                ),
                            ),
                        ],
                    ),
                )],
            ),
        ),
        (
            "runtime",
            Obj("FunctionsRuntime", &[("name", Str), ("version", Str)]),
        ),
        (
            "scaleAndConcurrency",
            Obj(
                "FunctionsScaleAndConcurrency",
                &[
                    (
                        "alwaysReady",
                        Arr(&Obj(
                            "FunctionsAlwaysReadyConfig",
                            &[("name", Str), ("instanceCount", Int)],
                        )),
                    ),
                    ("maximumInstanceCount", Int),
                    ("instanceMemoryMB", Int),
                    (
                        "triggers",
                        Obj(
                            "FunctionsScaleAndConcurrencyTriggers",
                            &[(
                                "http",
                                Obj(
                                    "FunctionsScaleAndConcurrencyTriggersHttp",
                                    &[("perInstanceConcurrency", Int)],
                                ),
                            )],
                        ),
                    ),
                ],
            ),
        ),
        // New in 2025-05-01 (arm-reference §3.3).
        (
            "siteUpdateStrategy",
            Since(
                "2025-05-01",
                &Obj("FunctionsSiteUpdateStrategy", &[("type", Str)]),
            ),
        ),
    ],
);

const SITE: S = Obj(
    "Site",
    &[
        ID,
        NAME,
        TYPE,
        SYSTEM_DATA,
        ("tags", Map),
        ("location", Str),
        ("identity", IDENTITY),
        ("extendedLocation", Any),
        ("kind", Str),
        (
            "properties",
            Obj(
                "SiteProperties",
                &[
                    ("state", Ro),
                    ("hostNames", Ro),
                    ("repositorySiteName", Ro),
                    ("usageState", Ro),
                    ("enabled", Bool),
                    ("enabledHostNames", Ro),
                    ("availabilityState", Ro),
                    (
                        "hostNameSslStates",
                        Arr(&Obj(
                            "HostNameSslState",
                            &[
                                ("name", Str),
                                ("sslState", Str),
                                ("virtualIP", Str),
                                ("thumbprint", Str),
                                ("toUpdate", Bool),
                                ("hostType", Str),
                            ],
                        )),
                    ),
                    ("serverFarmId", Str),
                    ("reserved", Bool),
                    ("isXenon", Bool),
                    ("hyperV", Bool),
                    ("lastModifiedTimeUtc", Ro),
                    ("dnsConfiguration", Any),
                    ("outboundVnetRouting", Any),
                    ("siteConfig", SITE_CONFIG),
                    ("functionAppConfig", FUNCTION_APP_CONFIG),
                    ("daprConfig", Any),
                    ("workloadProfileName", Str),
                    ("resourceConfig", Any),
                    ("trafficManagerHostNames", Ro),
                    ("scmSiteAlsoStopped", Bool),
                    ("targetSwapSlot", Ro),
                    ("hostingEnvironmentProfile", Any),
                    ("clientAffinityEnabled", Bool),
                    ("clientAffinityPartitioningEnabled", Bool),
                    ("clientAffinityProxyEnabled", Bool),
                    ("clientCertEnabled", Bool),
                    ("clientCertMode", Str),
                    ("clientCertExclusionPaths", Str),
                    ("ipMode", Str),
                    ("endToEndEncryptionEnabled", Bool),
                    ("sshEnabled", Bool),
                    ("hostNamesDisabled", Bool),
                    ("customDomainVerificationId", Str),
                    ("outboundIpAddresses", Ro),
                    ("possibleOutboundIpAddresses", Ro),
                    ("containerSize", Int),
                    ("dailyMemoryTimeQuota", Int),
                    ("suspendedTill", Ro),
                    ("maxNumberOfWorkers", Ro),
                    ("cloningInfo", Any),
                    ("resourceGroup", Ro),
                    ("isDefaultContainer", Ro),
                    ("defaultHostName", Ro),
                    ("slotSwapStatus", Ro),
                    ("httpsOnly", Bool),
                    ("redundancyMode", Str),
                    ("inProgressOperationId", Ro),
                    ("publicNetworkAccess", Str),
                    ("storageAccountRequired", Bool),
                    ("keyVaultReferenceIdentity", Str),
                    ("autoGeneratedDomainNameLabelScope", Str),
                    ("virtualNetworkSubnetId", Str),
                    ("managedEnvironmentId", Str),
                    // Read-only at 2025-05-01: reports "FlexConsumption"; az sends it anyway.
                    ("sku", Ro),
                ],
            ),
        ),
    ],
);

const APP_SETTINGS: S = Obj(
    "StringDictionary",
    &[
        ID,
        NAME,
        TYPE,
        SYSTEM_DATA,
        ("kind", Str),
        ("properties", Map),
    ],
);

const SITE_CONFIG_RESOURCE: S = Obj(
    "SiteConfigResource",
    &[
        ID,
        NAME,
        TYPE,
        SYSTEM_DATA,
        ("kind", Str),
        ("properties", SITE_CONFIG),
    ],
);

const AAD: S = Obj(
    "AzureActiveDirectory",
    &[
        ("enabled", Bool),
        (
            "registration",
            Obj(
                "AzureActiveDirectoryRegistration",
                &[
                    ("openIdIssuer", Str),
                    ("clientId", Str),
                    ("clientSecretSettingName", Str),
                    ("clientSecretCertificateThumbprint", Str),
                    ("clientSecretCertificateSubjectAlternativeName", Str),
                    ("clientSecretCertificateIssuer", Str),
                ],
            ),
        ),
        (
            "login",
            Obj(
                "AzureActiveDirectoryLogin",
                &[
                    ("loginParameters", STRINGS),
                    ("disableWWWAuthenticate", Bool),
                ],
            ),
        ),
        (
            "validation",
            Obj(
                "AzureActiveDirectoryValidation",
                &[
                    (
                        "jwtClaimChecks",
                        Obj(
                            "JwtClaimChecks",
                            &[
                                ("allowedGroups", STRINGS),
                                ("allowedClientApplications", STRINGS),
                            ],
                        ),
                    ),
                    ("allowedAudiences", STRINGS),
                    (
                        "defaultAuthorizationPolicy",
                        Obj(
                            "DefaultAuthorizationPolicy",
                            &[
                                (
                                    "allowedPrincipals",
                                    Obj(
                                        "AllowedPrincipals",
                                        &[("groups", STRINGS), ("identities", STRINGS)],
                                    ),
                                ),
                                ("allowedApplications", STRINGS),
                            ],
                        ),
                    ),
                ],
            ),
        ),
        ("isAutoProvisioned", Bool),
    ],
);

const AUTH_SETTINGS_V2: S = Obj(
    "SiteAuthSettingsV2",
    &[
        ID,
        NAME,
        TYPE,
        SYSTEM_DATA,
        ("kind", Str),
        (
            "properties",
            Obj(
                "SiteAuthSettingsV2Properties",
                &[
                    (
                        "platform",
                        Obj(
                            "AuthPlatform",
                            &[
                                ("enabled", Bool),
                                ("runtimeVersion", Str),
                                ("configFilePath", Str),
                            ],
                        ),
                    ),
                    (
                        "globalValidation",
                        Obj(
                            "GlobalValidation",
                            &[
                                ("requireAuthentication", Bool),
                                ("unauthenticatedClientAction", Str),
                                ("redirectToProvider", Str),
                                ("excludedPaths", STRINGS),
                            ],
                        ),
                    ),
                    (
                        "identityProviders",
                        Obj(
                            "IdentityProviders",
                            &[
                                ("azureActiveDirectory", AAD),
                                ("facebook", Any),
                                ("gitHub", Any),
                                ("google", Any),
                                ("legacyMicrosoftAccount", Any),
                                ("twitter", Any),
                                ("apple", Any),
                                ("azureStaticWebApps", Any),
                                ("customOpenIdConnectProviders", Map),
                            ],
                        ),
                    ),
                    (
                        "login",
                        Obj(
                            "Login",
                            &[
                                ("routes", Obj("LoginRoutes", &[("logoutEndpoint", Str)])),
                                (
                                    "tokenStore",
                                    Obj(
                                        "TokenStore",
                                        &[
                                            ("enabled", Bool),
                                            ("tokenRefreshExtensionHours", Num),
                                            (
                                                "fileSystem",
                                                Obj("FileSystemTokenStore", &[("directory", Str)]),
                                            ),
                                            (
                                                "azureBlobStorage",
                                                Obj(
                                                    "BlobStorageTokenStore",
                                                    &[("sasUrlSettingName", Str)],
                                                ),
                                            ),
                                        ],
                                    ),
                                ),
                                ("preserveUrlFragmentsForLogins", Bool),
                                ("allowedExternalRedirectUrls", STRINGS),
                                (
                                    "cookieExpiration",
                                    Obj(
                                        "CookieExpiration",
                                        &[("convention", Str), ("timeToExpiration", Str)],
                                    ),
                                ),
                                (
                                    "nonce",
                                    Obj(
                                        "Nonce",
                                        &[
                                            ("validateNonce", Bool),
                                            ("nonceExpirationInterval", Str),
                                        ],
                                    ),
                                ),
                            ],
                        ),
                    ),
                    (
                        "httpSettings",
                        Obj(
                            "HttpSettings",
                            &[
                                ("requireHttps", Bool),
                                ("routes", Obj("HttpSettingsRoutes", &[("apiPrefix", Str)])),
                                (
                                    "forwardProxy",
                                    Obj(
                                        "ForwardProxy",
                                        &[
                                            ("convention", Str),
                                            ("customHostHeaderName", Str),
                                            ("customProtoHeaderName", Str),
                                        ],
                                    ),
                                ),
                            ],
                        ),
                    ),
                    // Not in the SDK's model, but App Service answers it (as the string
                    // "false"/"true") and accepts it back: az's authV2 extension and templates at
                    // 2022-03-01…2024-11-01 PUT it, as a string or a boolean.
                    ("clearInboundClaimsMapping", Any),
                ],
            ),
        ),
    ],
);

/// `host/default/functionKeys/{name}`: the KeyInfo model, inside the `properties` wrapper the
/// service requires (arm-reference §5); top-level `name`/`value` are the SDK's flattened form.
const FUNCTION_KEY: S = Obj(
    "KeyInfo",
    &[
        ID,
        ("name", Str),
        TYPE,
        SYSTEM_DATA,
        ("kind", Str),
        ("location", Ro),
        ("value", Str),
        (
            "properties",
            Obj("KeyInfoProperties", &[("name", Str), ("value", Str)]),
        ),
    ],
);

// ---------------------------------------------------------------------------------------------
// Microsoft.Authorization 2022-04-01 (RoleAssignments_CreateForResource.json).

const ROLE_ASSIGNMENT: S = Obj(
    "RoleAssignmentCreateParameters",
    &[
        ID,
        NAME,
        TYPE,
        (
            "properties",
            Obj(
                "RoleAssignmentProperties",
                &[
                    ("roleDefinitionId", Str),
                    ("principalId", Str),
                    ("principalType", Str),
                    ("description", Str),
                    ("condition", Str),
                    ("conditionVersion", Str),
                    ("delegatedManagedIdentityResourceId", Str),
                    ("scope", Ro),
                    ("createdOn", Ro),
                    ("updatedOn", Ro),
                    ("createdBy", Ro),
                    ("updatedBy", Ro),
                ],
            ),
        ),
    ],
);

/// The table for a request path, if the emulator knows the type.
pub fn table(call: &Call<'_>) -> Option<&'static S> {
    let p = &call.path;
    let Some(ns) = p.namespace.as_deref() else {
        // `/subscriptions/{sub}/resourceGroups/{rg}` exactly.
        let n = p.raw.split('/').filter(|s| !s.is_empty()).count();
        return (p.resource_group.is_some() && n == 4).then_some(&RESOURCE_GROUP);
    };
    if p.action().is_some() {
        return None;
    }
    let t = p.type_path();
    match (ns.to_ascii_lowercase().as_str(), t.as_str()) {
        ("microsoft.resources", "resourcegroups") => Some(&RESOURCE_GROUP),
        ("microsoft.apimanagement", "service") => Some(&APIM_SERVICE),
        ("microsoft.apimanagement", "service/apis") => Some(&APIM_API),
        ("microsoft.apimanagement", "service/apis/operations") => Some(&APIM_OPERATION),
        (
            "microsoft.apimanagement",
            "service/policies" | "service/apis/policies" | "service/apis/operations/policies",
        ) => Some(&APIM_POLICY),
        ("microsoft.apimanagement", "service/backends") => Some(&APIM_BACKEND),
        ("microsoft.apimanagement", "service/namedvalues") => Some(&APIM_NAMED_VALUE),
        ("microsoft.apimanagement", "service/subscriptions") => Some(&APIM_SUBSCRIPTION),
        ("microsoft.storage", "storageaccounts") => Some(&STORAGE_ACCOUNT),
        ("microsoft.storage", "storageaccounts/blobservices/containers") => Some(&BLOB_CONTAINER),
        ("microsoft.web", "serverfarms") => Some(&SERVER_FARM),
        ("microsoft.web", "sites") => Some(&SITE),
        ("microsoft.web", "sites/config") => {
            match p.name(1).map(str::to_ascii_lowercase).as_deref() {
                Some("appsettings") => Some(&APP_SETTINGS),
                Some("authsettingsv2") => Some(&AUTH_SETTINGS_V2),
                Some("web") => Some(&SITE_CONFIG_RESOURCE),
                _ => None,
            }
        }
        ("microsoft.web", "sites/host/functionkeys") => Some(&FUNCTION_KEY),
        ("microsoft.authorization", "roleassignments") => Some(&ROLE_ASSIGNMENT),
        _ => None,
    }
}

/// The body as real ARM reads it: unknown properties dropped (recursively through known models),
/// so providers never store or echo what Azure would have ignored.
pub fn prune(s: &S, v: &Value, api: &str) -> Value {
    match (s, v) {
        (Obj(_, fields), Value::Object(m)) => Value::Object(
            m.iter()
                .filter_map(|(k, x)| {
                    let (_, fs) = fields.iter().find(|(f, _)| f.eq_ignore_ascii_case(k))?;
                    match fs {
                        Since(from, inner) => {
                            (api >= *from).then(|| (k.clone(), prune(inner, x, api)))
                        }
                        _ => Some((k.clone(), prune(fs, x, api))),
                    }
                })
                .collect(),
        ),
        (Arr(item), Value::Array(xs)) => {
            Value::Array(xs.iter().map(|x| prune(item, x, api)).collect())
        }
        (MapOf(item), Value::Object(m)) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), prune(item, x, api)))
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// The problems in a body for a table at an api-version (empty when it conforms).
pub fn problems(table: &S, body: &Value, api_version: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    walk(table, body, "", api_version, &mut out);
    out
}

/// In strict mode, a PUT/PATCH body with unknown or mistyped properties is answered with 400
/// `InvalidRequestContent` naming each one; otherwise the call goes on. Bodies that are not JSON
/// are left to the provider (which answers its own deserialisation error).
pub fn check(call: &Call<'_>) -> Result<(), Response> {
    if !call.em.strict {
        return Ok(());
    }
    let Some(table) = table(call) else {
        return Ok(());
    };
    let Ok(body) = call.req.json() else {
        return Ok(());
    };
    let found = problems(table, &body, &call.api_version);
    if found.is_empty() {
        return Ok(());
    }
    // Unknown properties are the emulator's own strict rejection (Azure ignores them), answered in
    // one ARM shape for every provider. A mistyped value is rejected by the provider itself, and
    // App Service answers its own validation errors in its PascalCase shape.
    let mistyped: Vec<&Problem> = found
        .iter()
        .filter(|p| !p.message.starts_with("Could not find member"))
        .collect();
    if call.path.is_namespace("Microsoft.Web") && !mistyped.is_empty() {
        let message = mistyped
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        return Err(crate::http::app_service_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &message,
        ));
    }
    Err(rejection(&found))
}

/// ARM's 400 for a body that does not deserialise.
pub fn rejection(found: &[Problem]) -> Response {
    let message = format!(
        "The request content was invalid and could not be deserialized: '{}'",
        found
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let details: Vec<Value> = found
        .iter()
        .map(|p| json!({"code": "InvalidRequestContent", "target": p.path, "message": p.message}))
        .collect();
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": {"code": "InvalidRequestContent", "message": message, "details": details}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(t: &S, body: Value, api: &str) -> Vec<String> {
        problems(t, &body, api)
            .into_iter()
            .map(|p| p.path)
            .collect()
    }

    #[test]
    fn unknown_and_mistyped_properties_are_named_by_path() {
        let body = json!({
            "location": "japaneast",
            "id": "ignored", "systemData": {"x": 1},
            "properties": {
                "httpsOnly": "yes",
                "functionAppConfig": {"runtime": {"nmae": "python", "version": "3.12"}},
                "siteConfig": {"appSettings": [{"name": "A", "value": "1", "slot": true}]},
                "defaultHostName": "read-only, ignored"
            }
        });
        assert_eq!(
            paths(&SITE, body, "2025-05-01"),
            vec![
                "properties.httpsOnly",
                "properties.functionAppConfig.runtime.nmae",
                "properties.siteConfig.appSettings[0].slot",
            ]
        );
    }

    #[test]
    fn names_match_case_insensitively_and_versions_gate_new_properties() {
        let body = json!({"Location": "x", "properties": {"functionAppConfig": {"siteUpdateStrategy": {"type": "Recreate"}}}});
        assert!(paths(&SITE, body.clone(), "2025-05-01").is_empty());
        assert_eq!(
            paths(&SITE, body, "2024-11-01"),
            vec!["properties.functionAppConfig.siteUpdateStrategy"]
        );
    }

    #[test]
    fn prune_drops_what_arm_would_ignore() {
        let body = json!({"location": "x", "bogus": 1, "properties": {"allowBlobPublicAcess": false, "allowSharedKeyAccess": false}});
        assert_eq!(
            prune(&STORAGE_ACCOUNT, &body, "2025-08-01"),
            json!({"location": "x", "properties": {"allowSharedKeyAccess": false}})
        );
    }

    #[test]
    fn free_form_maps_are_not_checked_inside() {
        let body = json!({"kind": "x", "properties": {"whatever": 1, "X": "y"}});
        assert!(paths(&APP_SETTINGS, body, "2025-05-01").is_empty());
        let bad = json!({"properties": "not-an-object"});
        assert_eq!(paths(&APP_SETTINGS, bad, "2025-05-01"), vec!["properties"]);
    }
}
