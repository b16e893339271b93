//! Which kind of file holds the workflow definition.
//!
//! - a bare definition: `{"$schema", "contentVersion", "parameters",
//!   "triggers", "actions", "outputs"}`;
//! - Power Automate's export (`definition.json` of a flow package):
//!   `{"name", "properties": {"definition", "connectionReferences", ...}}`;
//! - a Logic Apps (Consumption) workflow resource:
//!   `{"type": "Microsoft.Logic/workflows", "properties": {"definition",
//!   "parameters": {NAME: {"value"}}}}`;
//! - an ARM deployment template whose `resources` hold one such workflow.

use std::{collections::BTreeMap, fmt};

use serde_json::Value;

use super::DefinitionError;

/// The shape a file had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A bare workflow definition.
    Bare,
    /// Power Automate's `definition.json`.
    PowerAutomate,
    /// A Logic Apps workflow resource.
    LogicApp,
    /// An ARM template with a `Microsoft.Logic/workflows` resource.
    ArmTemplate,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shape::Bare => "workflow definition",
            Shape::PowerAutomate => "Power Automate flow (definition.json)",
            Shape::LogicApp => "Logic Apps workflow resource",
            Shape::ArmTemplate => "ARM template (Microsoft.Logic/workflows resource)",
        })
    }
}

/// What [`detect`] found.
#[derive(Debug)]
pub struct Found<'a> {
    /// The shape.
    pub shape: Shape,
    /// The definition object.
    pub definition: &'a Value,
    /// Its JSON path.
    pub root: String,
    /// The resource's or flow's name.
    pub name: Option<String>,
    /// Parameter values given beside the definition.
    pub parameter_values: BTreeMap<String, Value>,
}

const WORKFLOW_TYPE: &str = "Microsoft.Logic/workflows";

/// Finds the definition in a file of any supported shape.
pub fn detect(value: &Value) -> Result<Found<'_>, DefinitionError> {
    let Some(object) = value.as_object() else {
        return Err(DefinitionError::new("$", "a workflow file is a JSON object"));
    };
    let schema = object.get("$schema").and_then(Value::as_str).unwrap_or("");
    if let Some(resources) = object.get("resources").and_then(Value::as_array) {
        let mut found = resources.iter().enumerate().filter(|(_, r)| {
            r.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(WORKFLOW_TYPE))
        });
        let Some((i, resource)) = found.next() else {
            return Err(DefinitionError::new(
                "$.resources",
                format!("this ARM template has no {WORKFLOW_TYPE} resource"),
            ));
        };
        if found.next().is_some() {
            return Err(DefinitionError::new(
                "$.resources",
                format!("this ARM template has more than one {WORKFLOW_TYPE} resource"),
            ));
        }
        let root = format!("$.resources[{i}]");
        let definition = resource.pointer("/properties/definition").ok_or_else(|| {
            DefinitionError::new(
                format!("{root}.properties"),
                "the workflow has no 'definition'",
            )
        })?;
        return Ok(Found {
            shape: Shape::ArmTemplate,
            definition,
            root: format!("{root}.properties.definition"),
            name: resource.get("name").and_then(Value::as_str).map(arm_name),
            parameter_values: values(resource.pointer("/properties/parameters")),
        });
    }
    if let Some(definition) = object.get("properties").and_then(|p| p.get("definition")) {
        let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
        let power_automate = kind.eq_ignore_ascii_case("Microsoft.Flow/flows")
            || value.pointer("/properties/connectionReferences").is_some()
            || !kind.eq_ignore_ascii_case(WORKFLOW_TYPE)
                && value.pointer("/properties/parameters").is_none();
        let name = value
            .pointer("/properties/displayName")
            .or_else(|| object.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Ok(Found {
            shape: if power_automate { Shape::PowerAutomate } else { Shape::LogicApp },
            definition,
            root: "$.properties.definition".to_owned(),
            name,
            parameter_values: values(
                object.get("properties").and_then(|p| p.get("parameters")),
            ),
        });
    }
    if object.contains_key("triggers")
        || object.contains_key("actions")
        || schema.to_ascii_lowercase().contains("workflowdefinition")
    {
        return Ok(Found {
            shape: Shape::Bare,
            definition: value,
            root: "$".to_owned(),
            name: None,
            parameter_values: BTreeMap::new(),
        });
    }
    Err(DefinitionError::new(
        "$",
        "not a workflow: expected a definition (triggers, actions), Power Automate's \
         definition.json, a Logic Apps workflow resource or an ARM template",
    ))
}

/// `{NAME: {"value": V}}` → `{NAME: V}`.
fn values(parameters: Option<&Value>) -> BTreeMap<String, Value> {
    parameters
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.get("value").map(|v| (k.clone(), v.clone())))
                .collect()
        })
        .unwrap_or_default()
}

/// `[parameters('workflowName')]` is an ARM expression, not a name.
fn arm_name(name: &str) -> String {
    if name.starts_with('[') { "workflow".to_owned() } else { name.to_owned() }
}
