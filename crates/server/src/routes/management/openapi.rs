//! The OpenAPI 3.1 description of the Management API, built with utoipa from
//! the route table ([`super::routes()`]): every route with its method, path
//! and query parameters, the schema of its request body and of its reply
//! (derived from the Rust types, see [`Reply`]), its error replies and the
//! OAuth2 scopes it accepts. Served unauthenticated at `/api/v2/openapi.json`.

use super::schemas::ErrorBody;
use super::{routes, Endpoint, Method};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use std::collections::BTreeMap;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::AdditionalProperties;
use utoipa::openapi::security::{
    ClientCredentials, Flow, OAuth2, Scopes, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ArrayBuilder, ComponentsBuilder, ContentBuilder, InfoBuilder, ObjectBuilder, OneOfBuilder,
    OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required, ResponseBuilder, Schema, Server, Type,
};
use utoipa::ToSchema;

/// Where the description is served, relative to `/api/v2`.
pub const PATH: &str = "/openapi.json";

/// Named schemas collected while describing the endpoints.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// Adds a type's schema (and the schemas it refers to) to the collection
/// and returns a reference to it. See [`schema`].
pub type SchemaFn = fn(&mut Schemas) -> RefOr<Schema>;

/// The [`SchemaFn`] of a type.
pub fn schema<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    T::schemas(schemas);
    schemas.push((T::name().into_owned(), T::schema()));
    Ref::from_schema_name(T::name()).into()
}

/// What a success reply carries.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// Nothing but the status.
    Empty,
    /// One object.
    One(SchemaFn),
    /// A bare array.
    Array(SchemaFn),
    /// Auth0's offset pagination (see [`super::pagination`]): a bare array,
    /// or with `include_totals` an object holding the array under the
    /// collection's name.
    Paged(SchemaFn, &'static str),
    /// [`Reply::Paged`], or with `from`/`take` the checkpoint form
    /// `{<collection>, next}`.
    Checkpointed(SchemaFn, &'static str),
}

pub async fn serve(State(state): State<AppState>) -> Json<OpenApi> {
    Json(document(state.base_url()))
}

impl Method {
    fn http(self) -> HttpMethod {
        match self {
            Self::Get => HttpMethod::Get,
            Self::Post => HttpMethod::Post,
            Self::Put => HttpMethod::Put,
            Self::Patch => HttpMethod::Patch,
            Self::Delete => HttpMethod::Delete,
        }
    }
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn typed(schema_type: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(schema_type)
}

fn count() -> ObjectBuilder {
    typed(Type::Integer).minimum(Some(0))
}

fn query_schema(name: &str) -> ObjectBuilder {
    match name {
        "page" | "per_page" | "take" => count(),
        "include_totals" | "include_fields" | "is_first_party" => typed(Type::Boolean),
        _ => typed(Type::String),
    }
}

fn parameter(name: &str, location: ParameterIn, required: Required) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(location)
        .required(required)
}

fn parameters(e: &Endpoint) -> Vec<Parameter> {
    let path = path_params(e.path).into_iter().map(|name| {
        parameter(name, ParameterIn::Path, Required::True)
            .schema(Some(typed(Type::String)))
            .build()
    });
    let query = e.query.iter().map(|name| {
        parameter(name, ParameterIn::Query, Required::False)
            .schema(Some(query_schema(name)))
            .build()
    });
    path.chain(query).collect()
}

fn array_of(item: RefOr<Schema>) -> Schema {
    ArrayBuilder::new().items(item).build().into()
}

/// `{start, limit, total, <collection>}`; users and logs add `length`.
fn totals_page(item: RefOr<Schema>, collection: &str) -> Schema {
    ObjectBuilder::new()
        .property("start", count())
        .property("limit", count())
        .property("total", count())
        .property("length", count())
        .property(collection, array_of(item))
        .required("start")
        .required("limit")
        .required("total")
        .required(collection)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .build()
        .into()
}

/// `{<collection>, next}`: `next` is the `from` of the following page,
/// absent after the last one.
fn checkpoint_page(item: RefOr<Schema>, collection: &str) -> Schema {
    ObjectBuilder::new()
        .property(collection, array_of(item))
        .property("next", typed(Type::String))
        .required(collection)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .build()
        .into()
}

fn one_of(schemas: impl IntoIterator<Item = Schema>) -> RefOr<Schema> {
    let one_of = schemas
        .into_iter()
        .fold(OneOfBuilder::new(), OneOfBuilder::item)
        .build();
    RefOr::T(Schema::OneOf(one_of))
}

/// The reply's schema, or `None` for an empty reply.
fn reply_schema(reply: Reply, schemas: &mut Schemas) -> Option<RefOr<Schema>> {
    Some(match reply {
        Reply::Empty => return None,
        Reply::One(item) => item(schemas),
        Reply::Array(item) => array_of(item(schemas)).into(),
        Reply::Paged(item, collection) => {
            let item = item(schemas);
            one_of([array_of(item.clone()), totals_page(item, collection)])
        }
        Reply::Checkpointed(item, collection) => {
            let item = item(schemas);
            one_of([
                array_of(item.clone()),
                totals_page(item.clone(), collection),
                checkpoint_page(item, collection),
            ])
        }
    })
}

fn json_content(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

const JSON: &str = "application/json";

fn operation_id(e: &Endpoint) -> String {
    let mut id = e.method.as_openapi().to_string();
    for seg in e.path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        id.push_str(&seg.replace(['{', '}'], "").replace('-', "_"));
    }
    id
}

fn description(e: &Endpoint) -> String {
    let mut text = format!("Scopes (any of): {}.", e.scopes.join(", "));
    if !e.self_service.is_empty() {
        text.push_str(&format!(
            " A user's own token may call it on the user's own id with: {}.",
            e.self_service.join(", ")
        ));
    }
    if e.query.contains(&"fields") {
        text.push_str(
            " With `fields`, the reply keeps only the named properties (or, with `include_fields=false`, drops them).",
        );
    }
    text
}

/// The error replies an endpoint can give, each with the [`ErrorBody`] schema.
fn error_statuses(e: &Endpoint) -> Vec<(&'static str, &'static str)> {
    let has_path_params = !path_params(e.path).is_empty();
    let mut statuses = Vec::new();
    if e.body || !e.query.is_empty() || has_path_params {
        statuses.push(("400", "Invalid request"));
    }
    statuses.push(("401", "Invalid or expired token"));
    statuses.push(("403", "Insufficient scope"));
    if has_path_params {
        statuses.push(("404", "Not found"));
    }
    // A delete that `force` overrides refuses with 409 without it.
    if matches!(e.method, Method::Post | Method::Patch) || e.query.contains(&"force") {
        statuses.push(("409", "Conflict"));
    }
    statuses.push(("429", "Rate limit reached"));
    statuses
}

fn operation(e: &Endpoint, schemas: &mut Schemas, error: &RefOr<Schema>) -> Operation {
    let success = match reply_schema(e.reply, schemas) {
        Some(schema) => ResponseBuilder::new()
            .description("Success")
            .content(JSON, json_content(schema)),
        None => ResponseBuilder::new().description("Success, no content"),
    };
    let mut op = OperationBuilder::new()
        .operation_id(Some(operation_id(e)))
        .summary(Some(e.summary))
        .description(Some(description(e)))
        .tag(
            e.path
                .split('/')
                .find(|s| !s.is_empty())
                .unwrap_or("management"),
        )
        .security(SecurityRequirement::new("oauth2", e.scopes.iter().copied()))
        .parameters(Some(parameters(e)))
        .response(e.status.to_string(), success.build());
    for (status, text) in error_statuses(e) {
        let reply = ResponseBuilder::new()
            .description(text)
            .content(JSON, json_content(error.clone()));
        op = op.response(status, reply.build());
    }
    if let Some(request) = e.request {
        let body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(JSON, json_content(request(schemas)));
        op = op.request_body(Some(body.build()));
    }
    op.build()
}

/// The whole description, with `base_url` (no trailing slash) as the server.
pub fn document(base_url: &str) -> OpenApi {
    let mut schemas = Schemas::new();
    let error = schema::<ErrorBody>(&mut schemas);
    let mut paths = Paths::new();
    for route in routes() {
        let e = route.endpoint;
        let op = operation(&e, &mut schemas, &error);
        paths.add_path_operation(e.path, vec![e.method.http()], op);
    }
    // One entry per name (types reached from several endpoints repeat).
    let schemas: BTreeMap<String, RefOr<Schema>> = schemas.into_iter().collect();
    let scopes: Scopes = super::scopes::ALL.iter().copied().collect();
    let flow = Flow::ClientCredentials(ClientCredentials::new(
        format!("{base_url}/oauth/token"),
        scopes,
    ));
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme("oauth2", SecurityScheme::OAuth2(OAuth2::new([flow])))
        .build();
    let info = InfoBuilder::new()
        .title("Gatehouse Management API")
        .version("2")
        .description(Some(
            "Auth0-compatible Management API v2. Obtain a token with the client_credentials grant for the audience <issuer>api/v2/.",
        ));
    OpenApiBuilder::new()
        .info(info)
        .servers(Some([Server::new(format!("{base_url}/api/v2"))]))
        .security(Some([SecurityRequirement::new::<_, [&str; 0], &str>(
            "oauth2",
            [],
        )]))
        .paths(paths)
        .components(Some(components))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_names_a_component() {
        let doc = serde_json::to_value(document("http://127.0.0.1:1")).unwrap();
        let mut targets = Vec::new();
        refs(&doc, &mut targets);
        assert!(targets.len() > 50, "{}", targets.len());
        for target in targets {
            let name = target.strip_prefix("#/components/schemas/").unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{target} is not defined"
            );
        }
    }

    #[test]
    fn bodies_and_replies_have_schemas() {
        let doc = serde_json::to_value(document("http://127.0.0.1:1")).unwrap();
        let create = &doc["paths"]["/users"]["post"];
        assert_eq!(
            create["requestBody"]["content"][JSON]["schema"]["$ref"],
            "#/components/schemas/CreateUser"
        );
        assert_eq!(
            create["responses"]["201"]["content"][JSON]["schema"]["$ref"],
            "#/components/schemas/User"
        );
        let user = &doc["components"]["schemas"]["User"];
        assert!(user["required"]
            .as_array()
            .unwrap()
            .contains(&Value::from("user_id")));
        let create_user = &doc["components"]["schemas"]["CreateUser"];
        assert_eq!(create_user["additionalProperties"], false);
        let delete = &doc["paths"]["/users/{id}"]["delete"]["responses"]["204"];
        assert!(delete.get("content").is_none());
    }
}
