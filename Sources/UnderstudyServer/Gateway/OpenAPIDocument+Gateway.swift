import UnderstudyCore

/// The gateway, Forge egress and authorization-server part of the OpenAPI document. The gateway's
/// and the egress's paths are derived from the site's Jira paths (one source of truth): each
/// `/rest/api/…` path again under `/ex/jira/{cloudId}` (Bearer or scoped-token credentials) and
/// under `/jira` (`forge-proxy-authorization`), with the gateway's `401` envelope.
extension OpenAPIDocument {
    /// An entry point whose paths are copies of the site's.
    private enum Copy {
        case gateway, egress

        var prefix: String { self == .gateway ? "/ex/jira/{cloudId}" : "/jira" }

        func operationId(_ id: String) -> String {
            (self == .gateway ? "gateway" : "forgeEgress") + id.prefix(1).uppercased() + id.dropFirst()
        }

        var security: JSONValue {
            switch self {
            case .gateway:
                .array([
                    .object([JSONMember("bearerAuth", .array([]))]), .object([JSONMember("basicAuth", .array([]))]),
                ])
            case .egress: .array([.object([JSONMember("forgeProxy", .array([]))])])
            }
        }
    }

    /// The whole document: the site's paths, the gateway's and the egress's copies and the
    /// authorization server.
    static let combined: String = {
        guard case .object(var root) = try? JSONParser.parse(template),
            let pathsIndex = root.firstIndex(where: { $0.name == "paths" }),
            case .object(let paths) = root[pathsIndex].value,
            let componentsIndex = root.firstIndex(where: { $0.name == "components" }),
            case .object(var components) = root[componentsIndex].value,
            case .object(let extra) = try? JSONParser.parse(authorizationServerTemplate)
        else { preconditionFailure("the OpenAPI templates are valid JSON") }
        var allPaths = paths
        for copy in [Copy.gateway, .egress] {
            for path in paths where path.name.hasPrefix("/rest/api/") {
                allPaths.append(JSONMember(copy.prefix + path.name, pathItem(path.value, copy: copy)))
            }
        }
        for member in extra {
            switch member.name {
            case "paths": if case .object(let more) = member.value { allPaths += more }
            case "components":
                guard case .object(let sections) = member.value else { continue }
                for section in sections {
                    guard case .object(let entries) = section.value else { continue }
                    if let index = components.firstIndex(where: { $0.name == section.name }),
                        case .object(let existing) = components[index].value
                    {
                        components[index] = JSONMember(section.name, .object(existing + entries))
                    } else {
                        components.append(section)
                    }
                }
            default: break
            }
        }
        root[pathsIndex] = JSONMember("paths", .object(allPaths))
        root[componentsIndex] = JSONMember("components", .object(components))
        return JSONValue.object(root).jsonText
    }()

    /// A site path item as the gateway or the egress serves it.
    private static func pathItem(_ item: JSONValue, copy: Copy) -> JSONValue {
        guard case .object(let members) = item else { return item }
        return .object(
            members.map { member in
                switch member.name {
                case "parameters" where copy == .gateway:
                    guard case .array(let parameters) = member.value else { return member }
                    return JSONMember(
                        "parameters",
                        .array([.object([JSONMember("$ref", .string("#/components/parameters/cloudId"))])] + parameters)
                    )
                case "get", "put", "delete": return JSONMember(member.name, operation(member.value, copy: copy))
                default: return member
                }
            })
    }

    private static func operation(_ operation: JSONValue, copy: Copy) -> JSONValue {
        guard case .object(let members) = operation else { return operation }
        var result: [JSONMember] = []
        for member in members {
            switch member.name {
            case "operationId":
                if case .string(let id) = member.value {
                    result.append(JSONMember("operationId", .string(copy.operationId(id))))
                }
            case "security":
                continue
            case "responses":
                guard case .object(let responses) = member.value else { continue }
                var rewritten = responses.filter { $0.name != "401" }.map { response in
                    JSONMember(response.name, renamingLinks(response.value, copy: copy))
                }
                rewritten.append(
                    JSONMember("401", .object([JSONMember("$ref", .string("#/components/responses/GatewayError401"))])))
                result.append(JSONMember("responses", .object(rewritten)))
            default:
                result.append(member)
            }
        }
        result.append(JSONMember("security", copy.security))
        return .object(result)
    }

    /// Links of a copied response point at the copy's operations (the gateway's carry the cloudId).
    private static func renamingLinks(_ response: JSONValue, copy: Copy) -> JSONValue {
        guard case .object(let members) = response else { return response }
        return .object(
            members.map { member in
                guard member.name == "links", case .object(let links) = member.value else { return member }
                return JSONMember(
                    "links",
                    .object(
                        links.map { link in
                            guard case .object(let fields) = link.value else { return link }
                            return JSONMember(
                                link.name,
                                .object(
                                    fields.map { field in
                                        switch (field.name, field.value) {
                                        case ("operationId", .string(let id)):
                                            return JSONMember("operationId", .string(copy.operationId(id)))
                                        case ("parameters", .object(let parameters)) where copy == .gateway:
                                            return JSONMember(
                                                "parameters",
                                                .object(
                                                    parameters + [
                                                        JSONMember("cloudId", .string("$request.path.cloudId"))
                                                    ]
                                                ))
                                        default: return field
                                        }
                                    }))
                        }))
            })
    }

    static let authorizationServerTemplate = #"""
        {
          "paths": {
            "/_edge/tenant_info": {
              "get": {
                "operationId": "tenantInfo",
                "security": [],
                "summary": "The site's cloudId",
                "responses": {
                  "200": {
                    "description": "The cloudId.",
                    "content": {"application/json": {"schema": {
                      "type": "object", "required": ["cloudId"], "properties": {"cloudId": {"type": "string"}}}}}
                  }
                }
              }
            },
            "/authorize": {
              "get": {
                "operationId": "authorize",
                "security": [],
                "summary": "The consent page of the OAuth 2.0 authorization-code flow",
                "parameters": [
                  {"name": "client_id", "in": "query", "required": true, "schema": {"type": "string"}},
                  {"name": "redirect_uri", "in": "query", "required": true, "schema": {"type": "string"}},
                  {"name": "scope", "in": "query", "required": true, "schema": {"type": "string"}},
                  {"name": "state", "in": "query", "required": true, "schema": {"type": "string"}},
                  {"name": "response_type", "in": "query", "required": true, "schema": {"type": "string", "enum": ["code"]}},
                  {"name": "audience", "in": "query", "schema": {"type": "string", "enum": ["api.atlassian.com"]}},
                  {"name": "prompt", "in": "query", "schema": {"type": "string", "enum": ["consent"]}}
                ],
                "responses": {
                  "200": {"description": "The consent page.", "content": {"text/html": {"schema": {"type": "string"}}}},
                  "302": {"description": "Back to the app with an error (a request problem the app must hear of)."},
                  "400": {
                    "description": "Unknown client_id or unregistered redirect_uri: never a redirect.",
                    "content": {"text/html": {"schema": {"type": "string"}}}
                  }
                }
              },
              "post": {
                "operationId": "consent",
                "security": [],
                "summary": "The consent page's form: sign in as a site user and accept or deny",
                "requestBody": {
                  "required": true,
                  "content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object",
                    "required": ["client_id", "redirect_uri", "scope", "state", "response_type", "email", "api_token", "decision"],
                    "properties": {
                      "client_id": {"type": "string"}, "redirect_uri": {"type": "string"}, "scope": {"type": "string"},
                      "state": {"type": "string"}, "response_type": {"type": "string", "enum": ["code"]},
                      "email": {"type": "string"}, "api_token": {"type": "string"},
                      "decision": {"type": "string", "enum": ["accept", "deny"]}
                    }
                  }}}
                },
                "responses": {
                  "200": {
                    "description": "The consent page again, with the reason (wrong e-mail or token).",
                    "content": {"text/html": {"schema": {"type": "string"}}}
                  },
                  "302": {"description": "Back to the app: a code, or an error."},
                  "400": {
                    "description": "Unknown client_id or unregistered redirect_uri: never a redirect.",
                    "content": {"text/html": {"schema": {"type": "string"}}}
                  }
                }
              }
            },
            "/oauth/token": {
              "post": {
                "operationId": "token",
                "security": [{}, {"clientBasic": []}],
                "summary": "The authorization-code and refresh grants",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
                    "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/TokenRequest"}}
                  }
                },
                "responses": {
                  "200": {
                    "description": "New tokens.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}
                  },
                  "400": {"$ref": "#/components/responses/OAuthError"},
                  "401": {"$ref": "#/components/responses/OAuthError"},
                  "403": {"$ref": "#/components/responses/OAuthError"}
                }
              }
            },
            "/oauth/token/accessible-resources": {
              "get": {
                "operationId": "accessibleResources",
                "security": [{"bearerAuth": []}],
                "summary": "The sites the access token reaches: this one",
                "responses": {
                  "200": {
                    "description": "This site with the granted Jira scopes.",
                    "content": {"application/json": {"schema": {"type": "array", "items": {
                      "type": "object", "required": ["id", "name", "url", "scopes", "avatarUrl"],
                      "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "url": {"type": "string"},
                        "scopes": {"type": "array", "items": {"type": "string"}}, "avatarUrl": {"type": "string"}}}}}}
                  },
                  "401": {"$ref": "#/components/responses/GatewayError401"}
                }
              }
            },
            "/me": {
              "get": {
                "operationId": "me",
                "security": [{"bearerAuth": []}],
                "summary": "The user identity API (needs read:me)",
                "responses": {
                  "200": {
                    "description": "The user who consented.",
                    "content": {"application/json": {"schema": {"type": "object",
                      "required": ["account_type", "account_id", "email", "name", "account_status"],
                      "properties": {"account_type": {"type": "string"}, "account_id": {"type": "string"},
                        "email": {"type": "string"}, "name": {"type": "string"}, "picture": {"type": "string"},
                        "account_status": {"type": "string"}, "nickname": {"type": "string"},
                        "zoneinfo": {"type": "string"}, "locale": {"type": "string"}}}}}
                  },
                  "401": {"$ref": "#/components/responses/GatewayError401"}
                }
              }
            }
          },
          "components": {
            "parameters": {
              "cloudId": {
                "name": "cloudId",
                "in": "path",
                "required": true,
                "description": "The site's cloudId (GET /_edge/tenant_info); another is a scope mismatch.",
                "schema": {"type": "string"}
              }
            },
            "responses": {
              "GatewayError401": {
                "description": "The gateway's refusal: bad credentials, another cloudId, an unknown route, or missing scopes (through the Forge egress, bad credentials also carry forge-proxy-error: NEEDS_AUTHENTICATION_ERR).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GatewayError"}}}
              },
              "OAuthError": {
                "description": "The authorization server's error.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}
              }
            },
            "securitySchemes": {
              "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An OAuth 2.0 access token, or a Forge app system or app user token."},
              "forgeProxy": {"type": "apiKey", "in": "header", "name": "forge-proxy-authorization",
                "description": "The Forge container egress: Forge as=app,installationId=<id> or Forge as=user,installationId=<id>,accountId=<id>."},
              "clientBasic": {"type": "http", "scheme": "basic", "description": "client_id and client_secret."}
            },
            "schemas": {
              "GatewayError": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}
              },
              "OAuthError": {
                "type": "object",
                "required": ["error", "error_description"],
                "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}}
              },
              "TokenRequest": {
                "oneOf": [
                  {
                    "type": "object",
                    "required": ["grant_type", "code", "redirect_uri"],
                    "properties": {
                      "grant_type": {"type": "string", "enum": ["authorization_code"]},
                      "client_id": {"type": "string", "minLength": 1}, "client_secret": {"type": "string", "minLength": 1},
                      "code": {"type": "string", "minLength": 1}, "redirect_uri": {"type": "string", "minLength": 1}
                    }
                  },
                  {
                    "type": "object",
                    "required": ["grant_type", "refresh_token"],
                    "properties": {
                      "grant_type": {"type": "string", "enum": ["refresh_token"]},
                      "client_id": {"type": "string", "minLength": 1}, "client_secret": {"type": "string", "minLength": 1},
                      "refresh_token": {"type": "string", "minLength": 1}
                    }
                  }
                ]
              },
              "TokenResponse": {
                "type": "object",
                "required": ["access_token", "expires_in", "token_type", "scope"],
                "properties": {
                  "access_token": {"type": "string"}, "expires_in": {"type": "integer"},
                  "token_type": {"type": "string", "enum": ["Bearer"]}, "refresh_token": {"type": "string"},
                  "scope": {"type": "string"}
                }
              }
            }
          }
        }
        """#
}
