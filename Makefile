# SQL-first analytics backend: the database owns the logic, the gateway speaks HTTP.
# `make run` and `make test` are all a newcomer needs; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

DB        := scripts/db.sh
BUILD     := .build/debug
MIGRATOR  := $(BUILD)/Migrator
GATEWAY   := $(BUILD)/Gateway
HOST      ?= 127.0.0.1
PORT      ?= 8080

# With DATABASE_URL set, everything uses that server; otherwise the embedded cluster in .pgdata/.
ifdef DATABASE_URL
  EMBEDDED :=
  APP_URL  := $(DATABASE_URL)
  TEST_URL ?= $(shell $(DB) with-db '$(DATABASE_URL)' analytics_test)
  TEST_GATEWAY_URL ?= $(or $(TEST_GATEWAY_DATABASE_URL),$(TEST_URL))
  export ADMIN_URL := $(DATABASE_URL)
  # The gateway logs in as `authenticator`: give it that role's URI (with its password) here.
  GATEWAY_URL ?= $(or $(GATEWAY_DATABASE_URL),$(DATABASE_URL))
else
  EMBEDDED := 1
  APP_URL  := $(shell $(DB) url app)
  TEST_URL := $(shell $(DB) url analytics_test)
  GATEWAY_URL := $(shell $(DB) url app authenticator)
  TEST_GATEWAY_URL := $(shell $(DB) url analytics_test authenticator)
endif
APP_DB   := $(lastword $(subst /, ,$(firstword $(subst ?, ,$(APP_URL)))))

.PHONY: help build run token bench test test-sql test-reference test-swift test-e2e db-start db-stop migrate seed psql clean distclean

# The demo's token secret: generated once, readable only by you, never committed. A real
# deployment sets JWT_SECRET (or JWT_SECRET_FILE / JWKS_FILE) itself; there is no default.
SECRET_FILE := .run/jwt_secret
ifdef JWT_SECRET
  SECRET_ENV := JWT_SECRET='$(JWT_SECRET)'
else
  SECRET_ENV := JWT_SECRET_FILE=$(SECRET_FILE)
endif
ROLE     ?= authenticated
ACCOUNT  ?= 11111111-1111-4111-8111-111111111111
APP_ROLE ?= admin

help:
	@echo "make run    embedded PostgreSQL + migrations + demo data + gateway on http://$(HOST):$(PORT)"
	@echo "make test   every test (pgTAP, swift test, end-to-end) against a fresh throw-away database"
	@echo "make token ROLE=authenticated ACCOUNT=<uuid> APP_ROLE=admin   a signed demo token"
	@echo "make bench  load tests with wrk and pgbench; writes bench/results/report.md"
	@echo "make db-start | db-stop | migrate | seed | psql | clean | distclean"

build:
	swift build --product Migrator
	swift build --product Gateway

db-start:
ifdef EMBEDDED
	@$(DB) start
endif
	@$(DB) ensure-db $(APP_DB)

db-stop:
ifdef EMBEDDED
	@$(DB) stop
endif

migrate: db-start
	swift build --product Migrator
	$(MIGRATOR) up --database-url '$(APP_URL)'

# The demo users' password, like the token secret: made once per install, never committed.
DEMO_PASSWORD_FILE := .run/demo_password
$(DEMO_PASSWORD_FILE):
	@mkdir -p .run && umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=\n' > $@

seed: migrate $(DEMO_PASSWORD_FILE)
	@for f in seeds/*.sql; do [ -e "$$f" ] || continue; echo "seed $$f"; \
	  psql '$(APP_URL)' -X -q -o /dev/null -v ON_ERROR_STOP=1 -v demo_password="$$(cat $(DEMO_PASSWORD_FILE))" -f "$$f" || exit 1; done

$(SECRET_FILE):
	@mkdir -p .run && umask 077 && head -c 48 /dev/urandom | base64 | tr -d '/+=\n' > $@

run: build seed $(SECRET_FILE)
	@echo ""
	@echo "Gateway on http://$(HOST):$(PORT)   (Ctrl-C stops it; make db-stop stops PostgreSQL)"
	@echo "  curl http://$(HOST):$(PORT)/health"
	@echo "  curl http://$(HOST):$(PORT)/ready"
	@echo "  TOKEN=\$$(make -s token ACCOUNT=<account uuid> APP_ROLE=admin)"
	@echo "  curl -H \"Authorization: Bearer \$$TOKEN\" http://$(HOST):$(PORT)/api/v1/…"
	@echo "  http://$(HOST):$(PORT)/api/docs        the API, from the route catalog"
	@echo "  FlowPilot demo users (admin@, engineer@, viewer@acme.example), password: $$(cat $(DEMO_PASSWORD_FILE))"
	@echo "  make psql    a psql shell on the same database"
	@echo ""
	DATABASE_URL='$(GATEWAY_URL)' $(SECRET_ENV) $(GATEWAY) --hostname $(HOST) --port $(PORT)

token: $(SECRET_FILE)
	@swift build --product Gateway >/dev/null 2>&1 || swift build --product Gateway
	@$(SECRET_ENV) $(GATEWAY) token --role $(ROLE) --account $(ACCOUNT) --app-role $(APP_ROLE)

bench:
	scripts/bench.sh

# Every test, from a fresh throw-away database. Exits non-zero if anything failed.
test: db-start
	swift build --build-tests
	swift build --product Gateway
	@$(DB) recreate-db analytics_test
	$(MIGRATOR) up --database-url '$(TEST_URL)'
	psql '$(TEST_URL)' -X -q -v ON_ERROR_STOP=1 -f Tests/fixtures/gateway_routes.sql
	psql '$(TEST_URL)' -X -q -o /dev/null -v ON_ERROR_STOP=1 -f Tests/fixtures/hotdash.sql
	$(MAKE) --no-print-directory test-sql test-reference test-swift test-e2e

test-sql:
	psql '$(TEST_URL)' -X -q -v ON_ERROR_STOP=1 -f Tests/sql/support/helpers.sql
	PSQL_URL='$(TEST_URL)' pg_prove --psql-bin scripts/psql-url --failures Tests/sql/*.sql

# The models' forecasts, metrics and backtests against numpy / scikit-learn computing them independently.
test-reference:
	PYTHONPATH=.pylib /usr/bin/python3 bench/reference/check_models.py --database-url '$(TEST_URL)'
	PYTHONPATH=.pylib /usr/bin/python3 bench/reference/check_backtest.py --database-url '$(TEST_URL)'
	PYTHONPATH=.pylib /usr/bin/python3 bench/reference/check_features.py --database-url '$(TEST_URL)'
	PYTHONPATH=.pylib /usr/bin/python3 bench/reference/check_feature_models.py --database-url '$(TEST_URL)'
	PYTHONPATH=.pylib /usr/bin/python3 bench/reference/check_scenarios.py --database-url '$(TEST_URL)'
	PYTHONPATH=.pylib /usr/bin/python3 bench/reference/check_embeddings.py --database-url '$(TEST_URL)'
	PYTHONPATH=.pylib /usr/bin/python3 bench/reference/check_rag_recall.py --database-url '$(TEST_URL)'

test-swift:
	TEST_DATABASE_URL='$(TEST_URL)' TEST_GATEWAY_DATABASE_URL='$(TEST_GATEWAY_URL)' swift test --skip-build

test-e2e:
	TEST_DATABASE_URL='$(TEST_URL)' Tests/e2e/gateway.sh $(GATEWAY) '$(TEST_GATEWAY_URL)' $(if $(EMBEDDED),--restart-embedded-db)

psql: db-start
	psql '$(APP_URL)'

clean:
	-@$(DB) stop 2>/dev/null
	rm -rf .pgdata .run

distclean: clean
	rm -rf .build .build-* .swiftpm
