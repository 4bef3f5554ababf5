//! `GET/POST/DELETE /lists/{name}`: the lists people keep by voice ("put oat
//! milk on the shopping list"), for editor plugins, Home Assistant and scripts.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::schema::{ErrorBody, RequestErrors, TokenErrors};
use super::state::SharedState;
use crate::assistant::everyday::Everyday;

/// Longest list or item name, in characters: a spoken item is a few words.
const MAX_NAME_CHARS: usize = 200;
/// Most items one request adds.
const MAX_ITEMS: usize = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct ListItems {
    /// The list's name as stored ("shopping" for "grocery" too).
    list: String,
    /// Its items, oldest first.
    items: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddItems {
    /// Items to add; those on the list already are left as they are.
    items: Vec<String>,
}

fn everyday(state: &SharedState) -> ApiResult<&Arc<Everyday>> {
    state.everyday.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "lists are off in this daemon: its skills database could not be opened (the start-up log says why)",
        )
    })
}

/// A name as said and as stored: trimmed, lower case, "grocery" is "shopping".
fn list_name(name: &str) -> ApiResult<String> {
    let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let name = crate::assistant::intents::everyday::list_name(&words);
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(
            "name",
            format!("a list's name has 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name)
}

fn item(text: &str) -> ApiResult<String> {
    let item = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if item.is_empty() || item.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(
            "items",
            format!("an item has 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(item)
}

async fn items_of(state: SharedState, list: String) -> ApiResult<Json<ListItems>> {
    let items = tokio::task::spawn_blocking({
        let list = list.clone();
        move || everyday(&state).map(|e| e.list_items(&list))
    })
    .await
    .map_err(ApiError::internal)??
    .map_err(ApiError::internal)?;
    Ok(Json(ListItems { list, items }))
}

/// The items on a list (an empty list when nothing was ever put on it).
#[utoipa::path(get, path = "/lists/{name}", tag = "hauski",
    params(("name" = String, Path, description = "The list, e.g. shopping")),
    responses(
        (status = 200, description = "The list's items, oldest first", body = ListItems),
        TokenErrors,
        (status = 503, description = "Lists are off in this daemon", body = ErrorBody),
    ))]
pub async fn read(State(state): State<SharedState>, Path(name): Path<String>) -> ApiResult<Json<ListItems>> {
    let list = list_name(&name)?;
    items_of(state, list).await
}

/// Adds items to a list.
#[utoipa::path(post, path = "/lists/{name}", tag = "hauski", request_body = AddItems,
    params(("name" = String, Path, description = "The list, e.g. shopping")),
    responses(
        (status = 200, description = "The list after adding", body = ListItems),
        RequestErrors,
        (status = 503, description = "Lists are off in this daemon", body = ErrorBody),
    ))]
pub async fn add(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    body: Result<Json<AddItems>, JsonRejection>,
) -> ApiResult<Json<ListItems>> {
    let Json(request) = body?;
    let list = list_name(&name)?;
    if request.items.is_empty() || request.items.len() > MAX_ITEMS {
        return Err(ApiError::invalid("items", format!("send 1 to {MAX_ITEMS} items")));
    }
    let items = request
        .items
        .iter()
        .map(|i| item(i))
        .collect::<ApiResult<Vec<_>>>()?;
    let everyday = everyday(&state)?.clone();
    let added_to = list.clone();
    let items = tokio::task::spawn_blocking(move || everyday.list_add(&added_to, &items))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Json(ListItems { list, items }))
}

/// Takes an item off a list.
#[utoipa::path(delete, path = "/lists/{name}/items/{item}", tag = "hauski",
    params(
        ("name" = String, Path, description = "The list, e.g. shopping"),
        ("item" = String, Path, description = "The item, e.g. oat milk"),
    ),
    responses(
        (status = 200, description = "The list after removing", body = ListItems),
        TokenErrors,
        (status = 404, description = "The item is not on the list", body = ErrorBody),
        (status = 503, description = "Lists are off in this daemon", body = ErrorBody),
    ))]
pub async fn remove(
    State(state): State<SharedState>,
    Path((name, item_said)): Path<(String, String)>,
) -> ApiResult<Json<ListItems>> {
    let list = list_name(&name)?;
    let item = item(&item_said)?;
    let everyday = everyday(&state)?.clone();
    let (from, what) = (list.clone(), item.clone());
    let removed = tokio::task::spawn_blocking(move || everyday.list_remove(&from, &what))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    match removed {
        Some(items) => Ok(Json(ListItems { list, items })),
        None => Err(ApiError {
            param: Some("item"),
            ..ApiError::not_found("item_not_found", format!("{item:?} is not on the {list} list"))
        }),
    }
}
