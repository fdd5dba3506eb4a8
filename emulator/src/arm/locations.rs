//! Regions: programmatic names and the display names Azure echoes back ("Japan East").
//! A realistic subset of the public cloud's regions (`az account list-locations`).

pub const REGIONS: &[(&str, &str)] = &[
    ("australiaeast", "Australia East"),
    ("brazilsouth", "Brazil South"),
    ("canadacentral", "Canada Central"),
    ("centralindia", "Central India"),
    ("centralus", "Central US"),
    ("eastasia", "East Asia"),
    ("eastus", "East US"),
    ("eastus2", "East US 2"),
    ("francecentral", "France Central"),
    ("germanywestcentral", "Germany West Central"),
    ("japaneast", "Japan East"),
    ("japanwest", "Japan West"),
    ("koreacentral", "Korea Central"),
    ("northcentralus", "North Central US"),
    ("northeurope", "North Europe"),
    ("norwayeast", "Norway East"),
    ("southafricanorth", "South Africa North"),
    ("southcentralus", "South Central US"),
    ("southeastasia", "Southeast Asia"),
    ("swedencentral", "Sweden Central"),
    ("switzerlandnorth", "Switzerland North"),
    ("uaenorth", "UAE North"),
    ("uksouth", "UK South"),
    ("ukwest", "UK West"),
    ("westcentralus", "West Central US"),
    ("westeurope", "West Europe"),
    ("westus", "West US"),
    ("westus2", "West US 2"),
    ("westus3", "West US 3"),
];

/// Lowercase, no spaces: how ARM compares locations.
pub fn normalize(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The programmatic name of a known region given either form.
pub fn code(location: &str) -> Option<&'static str> {
    let n = normalize(location);
    REGIONS.iter().find(|(c, _)| *c == n).map(|(c, _)| *c)
}

/// The display name of a known region given either form.
pub fn display(location: &str) -> Option<&'static str> {
    let n = normalize(location);
    REGIONS.iter().find(|(c, _)| *c == n).map(|(_, d)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_resolve() {
        assert_eq!(code("Japan East"), Some("japaneast"));
        assert_eq!(display("japaneast"), Some("Japan East"));
        assert_eq!(code("atlantis"), None);
    }
}
