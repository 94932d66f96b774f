import Foundation
import UnderstudyCore

/// Understudy's own OpenAPI 3 description of the Jira surface it serves, at
/// `GET /_understudy/openapi.json`: what a schemathesis run fuzzes, and what a developer can read.
/// It describes what Understudy implements — the required `accountId`, the empty `PUT` and `DELETE`
/// answers, both error shapes — not all of Jira's API.
enum OpenAPIDocument {
    /// The document with the site's base URL as its server.
    static func text(baseURL: String) -> String {
        var url = ""
        JSONValue.writeString(baseURL, to: &url)
        return combined.replacingOccurrences(of: "\"{{baseURL}}\"", with: url)
    }

    static let template = #"""
        {
          "openapi": "3.0.3",
          "info": {
            "title": "Understudy: Jira Cloud users and properties",
            "version": "1",
            "description": "Jira Cloud's users, user properties and app properties as served here, on the site URL and through the API gateway, and the OAuth 2.0 authorization server. See README.md."
          },
          "servers": [{"url": "{{baseURL}}"}],
          "security": [{"basicAuth": []}, {"connectJwt": []}],
          "paths": {
            "/status": {
              "get": {
                "operationId": "status",
                "security": [],
                "summary": "Liveness",
                "responses": {
                  "200": {
                    "description": "The site is running.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}
                  }
                }
              }
            },
            "/rest/api/{version}/serverInfo": {
              "parameters": [{"$ref": "#/components/parameters/version"}],
              "get": {
                "operationId": "serverInfo",
                "security": [{}, {"basicAuth": []}, {"connectJwt": []}],
                "summary": "Server information (anonymous callers allowed)",
                "responses": {
                  "200": {
                    "description": "The site's version and time.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerInfo"}}}
                  },
                  "404": {"$ref": "#/components/responses/UnknownResource"}
                }
              }
            },
            "/rest/api/{version}/myself": {
              "parameters": [{"$ref": "#/components/parameters/version"}],
              "get": {
                "operationId": "myself",
                "summary": "The calling user",
                "responses": {
                  "200": {
                    "description": "The caller.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}
                  },
                  "401": {"$ref": "#/components/responses/Error401"},
                  "404": {"$ref": "#/components/responses/UnknownResource"}
                }
              }
            },
            "/rest/api/{version}/user": {
              "parameters": [{"$ref": "#/components/parameters/version"}],
              "get": {
                "operationId": "user",
                "summary": "A user by accountId",
                "parameters": [{"$ref": "#/components/parameters/accountId"}],
                "responses": {
                  "200": {
                    "description": "The user.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}
                  },
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "404": {"$ref": "#/components/responses/Error404"}
                }
              }
            },
            "/rest/api/{version}/user/properties": {
              "parameters": [{"$ref": "#/components/parameters/version"}],
              "get": {
                "operationId": "userPropertyKeys",
                "summary": "The keys of a user's properties",
                "parameters": [{"$ref": "#/components/parameters/accountId"}],
                "responses": {
                  "200": {
                    "description": "The keys, each with its self link.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PropertyKeys"}}}
                  },
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"}
                }
              }
            },
            "/rest/api/{version}/user/properties/{propertyKey}": {
              "parameters": [
                {"$ref": "#/components/parameters/version"},
                {"$ref": "#/components/parameters/propertyKey"},
                {"$ref": "#/components/parameters/accountId"}
              ],
              "get": {
                "operationId": "getUserProperty",
                "summary": "A user property",
                "responses": {
                  "200": {
                    "description": "The property.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Property"}}}
                  },
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"}
                }
              },
              "put": {
                "operationId": "setUserProperty",
                "summary": "Create or replace a user property",
                "requestBody": {
                  "required": true,
                  "description": "Any JSON value, at most 32768 bytes.",
                  "content": {"application/json": {"schema": {}}}
                },
                "responses": {
                  "200": {
                    "description": "Replaced; empty body.",
                    "links": {
                      "ReadBack": {
                        "operationId": "getUserProperty",
                        "parameters": {
                          "version": "$request.path.version", "propertyKey": "$request.path.propertyKey",
                          "accountId": "$request.query.accountId"
                        }
                      }
                    }
                  },
                  "201": {
                    "description": "Created; empty body.",
                    "links": {
                      "ReadBack": {
                        "operationId": "getUserProperty",
                        "parameters": {
                          "version": "$request.path.version", "propertyKey": "$request.path.propertyKey",
                          "accountId": "$request.query.accountId"
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"}
                }
              },
              "delete": {
                "operationId": "deleteUserProperty",
                "summary": "Delete a user property",
                "responses": {
                  "204": {
                    "description": "Deleted.",
                    "links": {
                      "ReadBack": {
                        "operationId": "getUserProperty",
                        "parameters": {
                          "version": "$request.path.version", "propertyKey": "$request.path.propertyKey",
                          "accountId": "$request.query.accountId"
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"}
                }
              }
            },
            "/rest/atlassian-connect/1/addons/{addonKey}/properties": {
              "parameters": [{"$ref": "#/components/parameters/addonKey"}],
              "get": {
                "operationId": "appPropertyKeys",
                "security": [{"connectJwt": []}],
                "summary": "The keys of the calling app's properties",
                "responses": {
                  "200": {
                    "description": "The keys, each with its self link.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PropertyKeys"}}}
                  },
                  "401": {"$ref": "#/components/responses/AppError401"},
                  "403": {"$ref": "#/components/responses/AppError403"},
                  "404": {"$ref": "#/components/responses/AppError404"}
                }
              }
            },
            "/rest/atlassian-connect/1/addons/{addonKey}/properties/{propertyKey}": {
              "parameters": [
                {"$ref": "#/components/parameters/addonKey"},
                {"$ref": "#/components/parameters/appPropertyKey"}
              ],
              "get": {
                "operationId": "getAppProperty",
                "security": [{"connectJwt": []}],
                "summary": "An app property",
                "responses": {
                  "200": {
                    "description": "The property.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AppProperty"}}}
                  },
                  "400": {"$ref": "#/components/responses/AppError400"},
                  "401": {"$ref": "#/components/responses/AppError401"},
                  "403": {"$ref": "#/components/responses/AppError403"},
                  "404": {"$ref": "#/components/responses/AppError404"}
                }
              },
              "put": {
                "operationId": "setAppProperty",
                "security": [{"connectJwt": []}],
                "summary": "Create or replace an app property",
                "requestBody": {
                  "required": true,
                  "description": "Any JSON value, at most 32768 bytes.",
                  "content": {"application/json": {"schema": {}}}
                },
                "responses": {
                  "200": {
                    "description": "Replaced.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AppMessage"}}},
                    "links": {
                      "ReadBack": {
                        "operationId": "getAppProperty",
                        "parameters": {"addonKey": "$request.path.addonKey", "propertyKey": "$request.path.propertyKey"}
                      }
                    }
                  },
                  "201": {
                    "description": "Created.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AppMessage"}}},
                    "links": {
                      "ReadBack": {
                        "operationId": "getAppProperty",
                        "parameters": {"addonKey": "$request.path.addonKey", "propertyKey": "$request.path.propertyKey"}
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/AppError400"},
                  "401": {"$ref": "#/components/responses/AppError401"},
                  "403": {"$ref": "#/components/responses/AppError403"},
                  "404": {"$ref": "#/components/responses/AppError404"}
                }
              },
              "delete": {
                "operationId": "deleteAppProperty",
                "security": [{"connectJwt": []}],
                "summary": "Delete an app property",
                "responses": {
                  "204": {
                    "description": "Deleted.",
                    "links": {
                      "ReadBack": {
                        "operationId": "getAppProperty",
                        "parameters": {"addonKey": "$request.path.addonKey", "propertyKey": "$request.path.propertyKey"}
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/AppError400"},
                  "401": {"$ref": "#/components/responses/AppError401"},
                  "403": {"$ref": "#/components/responses/AppError403"},
                  "404": {"$ref": "#/components/responses/AppError404"}
                }
              }
            }
          },
          "components": {
            "parameters": {
              "version": {
                "name": "version",
                "in": "path",
                "required": true,
                "description": "The REST API version; 2 and 3 behave alike here.",
                "schema": {"type": "string", "enum": ["2", "3"]}
              },
              "accountId": {
                "name": "accountId",
                "in": "query",
                "required": true,
                "description": "The user's accountId (the removed username and userKey are refused).",
                "schema": {"type": "string", "minLength": 1, "maxLength": 128}
              },
              "propertyKey": {
                "name": "propertyKey",
                "in": "path",
                "required": true,
                "description": "The property key, percent-encoded; at most 255 characters.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255}
              },
              "addonKey": {
                "name": "addonKey",
                "in": "path",
                "required": true,
                "description": "The calling app's key; another app's key is answered as not found.",
                "schema": {"type": "string", "minLength": 1}
              },
              "appPropertyKey": {
                "name": "propertyKey",
                "in": "path",
                "required": true,
                "description": "The app property key; at most 127 characters.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 127}
              }
            },
            "responses": {
              "UnknownResource": {
                "description": "No such resource (for example an API version other than 2 or 3).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorCollection"}}}
              },
              "Error400": {
                "description": "No accountId or a removed username/userKey; a key or value too long; a value not JSON.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorCollection"}}}
              },
              "Error401": {
                "description": "No valid credentials.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorCollection"}}}
              },
              "Error403": {
                "description": "Another user's properties need Administer Jira; or the app's JWT lacks the scope.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorCollection"}}}
              },
              "Error404": {
                "description": "No such user or property, or no such resource.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorCollection"}}}
              },
              "AppError400": {
                "description": "A key or value over its limit, or a value that is not JSON.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AppError"}}}
              },
              "AppError401": {
                "description": "The caller is not a Connect app (app properties need the app's JWT).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AppError"}}}
              },
              "AppError403": {
                "description": "The app's JWT lacks the scope for this method.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AppError"}}}
              },
              "AppError404": {
                "description": "No such property, or another app's key.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AppError"}}}
              }
            },
            "securitySchemes": {
              "basicAuth": {"type": "http", "scheme": "basic", "description": "E-mail address and API token."},
              "connectJwt": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "JWT <token>: a Connect JWT (HS256, iss = app key, qsh), or the jwt query parameter."
              }
            },
            "schemas": {
              "ErrorCollection": {
                "type": "object",
                "required": ["errorMessages", "errors"],
                "properties": {
                  "errorMessages": {"type": "array", "items": {"type": "string"}},
                  "errors": {"type": "object", "additionalProperties": {"type": "string"}}
                }
              },
              "AppError": {
                "type": "object",
                "required": ["message", "statusCode"],
                "properties": {"message": {"type": "string"}, "statusCode": {"type": "integer"}}
              },
              "AppMessage": {
                "type": "object",
                "required": ["message", "statusCode"],
                "properties": {"message": {"type": "string"}, "statusCode": {"type": "integer"}}
              },
              "Status": {
                "type": "object",
                "required": ["state"],
                "properties": {"state": {"type": "string", "enum": ["RUNNING"]}}
              },
              "ServerInfo": {
                "type": "object",
                "required": ["baseUrl", "version", "versionNumbers", "deploymentType", "buildNumber", "serverTime"],
                "properties": {
                  "baseUrl": {"type": "string"},
                  "displayUrl": {"type": "string"},
                  "version": {"type": "string"},
                  "versionNumbers": {"type": "array", "items": {"type": "integer"}},
                  "deploymentType": {"type": "string", "enum": ["Cloud"]},
                  "buildNumber": {"type": "integer"},
                  "buildDate": {"type": "string"},
                  "serverTime": {"type": "string"},
                  "serverTimeZone": {"type": "object"},
                  "scmInfo": {"type": "string"},
                  "serverTitle": {"type": "string"}
                }
              },
              "User": {
                "type": "object",
                "required": ["self", "accountId", "accountType", "displayName", "active"],
                "properties": {
                  "self": {"type": "string"},
                  "accountId": {"type": "string"},
                  "accountType": {"type": "string", "enum": ["atlassian", "app"]},
                  "emailAddress": {"type": "string"},
                  "avatarUrls": {"type": "object", "additionalProperties": {"type": "string"}},
                  "displayName": {"type": "string"},
                  "active": {"type": "boolean"},
                  "timeZone": {"type": "string"},
                  "locale": {"type": "string"},
                  "groups": {"type": "object"},
                  "applicationRoles": {"type": "object"},
                  "expand": {"type": "string"}
                }
              },
              "PropertyKeys": {
                "type": "object",
                "required": ["keys"],
                "properties": {
                  "keys": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": ["key", "self"],
                      "properties": {"key": {"type": "string"}, "self": {"type": "string"}}
                    }
                  }
                }
              },
              "Property": {
                "type": "object",
                "required": ["key", "value"],
                "properties": {"key": {"type": "string"}, "value": {}}
              },
              "AppProperty": {
                "type": "object",
                "required": ["key", "value", "self"],
                "properties": {"key": {"type": "string"}, "value": {}, "self": {"type": "string"}}
              }
            }
          }
        }
        """#
}
