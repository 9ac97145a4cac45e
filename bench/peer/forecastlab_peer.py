"""The upstream way of serving ForecastLab's reads, for `make bench` to measure the gateway against:
FastAPI + asyncpg (uvicorn, uvloop, httptools), a JWT checked with PyJWT, and per request the same
SQL the gateway sends (`gateway.invoke`, one round trip: role, claims and the api function call).
Routes come from the same catalog (`gateway.catalog()`, the unit's GET routes), so both serve the
same functions with the same arguments. Not a product: a peer for the benchmark only.

Environment: PEER_DATABASE_URL (the authenticator's URI), JWT_SECRET, PEER_UNIT (forecastlab),
PEER_POOL (connections per worker, default 2).
"""
import json
import os

import asyncpg
import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

app = FastAPI()
state = {}


def call_sql(route):
    """`select (api.f(a => ($1->>'a')::integer, …))::text`, as the gateway builds it."""
    args = []
    for arg in route["args"]:
        key = arg["name"].replace("'", "''")
        kind = arg["type"]
        if kind in ("json", "jsonb"):
            expression = f"($1->'{key}')::{kind}"
        elif kind.endswith("[]"):
            expression = f"array(select jsonb_array_elements_text($1->'{key}'))::{kind}"
        else:
            expression = f"($1->>'{key}')::{kind}"
        args.append((arg["name"], f"{arg['sql_name']} => {expression}"))
    return args


@app.on_event("startup")
async def startup():
    state["pool"] = await asyncpg.create_pool(os.environ["PEER_DATABASE_URL"], min_size=1,
                                              max_size=int(os.environ.get("PEER_POOL", "2")))
    async with state["pool"].acquire() as connection:
        catalog = json.loads(await connection.fetchval("select gateway.catalog()::text"))
    unit = os.environ.get("PEER_UNIT", "forecastlab")
    state["routes"] = {r["path"]: r for r in catalog if r["unit"] == unit and r["method"] == "GET" and "{" not in r["path"]}
    state["secret"] = os.environ["JWT_SECRET"]


@app.get("/{path:path}")
async def serve(path: str, request: Request):
    route = state["routes"].get("/" + path)
    if route is None:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    header = request.headers.get("authorization", "")
    try:
        claims = jwt.decode(header.removeprefix("Bearer "), state["secret"], algorithms=["HS256"])
    except jwt.PyJWTError:
        return JSONResponse({"detail": "Unauthorized"}, status_code=401)
    given = {}
    for name, value in request.query_params.multi_items():
        given.setdefault(name, []).append(value)
    names = {a["name"] for a in route["args"]}
    if any(name not in names for name in given):
        return JSONResponse({"detail": "unknown parameter"}, status_code=422)
    args = {name: values[0] if len(values) == 1 else values for name, values in given.items()}
    call = ", ".join(sql for name, sql in call_sql(route) if name in args)
    statement = f"select ({route['function_sql']}({call}))::text"
    async with state["pool"].acquire() as connection:
        row = await connection.fetchrow(
            "select body, status from gateway.invoke($1, $2, true, $3, $4::jsonb)",
            claims.get("role", "anon"), json.dumps(claims), statement, json.dumps(args))
    return Response(row["body"], status_code=row["status"] or 200, media_type="application/json")
