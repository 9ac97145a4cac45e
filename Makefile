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

.PHONY: help build run test test-sql test-swift db-start db-stop migrate seed psql clean distclean

help:
	@echo "make run    embedded PostgreSQL + migrations + demo data + gateway on http://$(HOST):$(PORT)"
	@echo "make test   every test (pgTAP + swift test) against a fresh throw-away database"
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

seed: migrate
	@for f in seeds/*.sql; do [ -e "$$f" ] || continue; echo "seed $$f"; \
	  psql '$(APP_URL)' -X -q -v ON_ERROR_STOP=1 -f "$$f" || exit 1; done

run: build seed
	@echo ""
	@echo "Gateway on http://$(HOST):$(PORT)   (Ctrl-C stops it; make db-stop stops PostgreSQL)"
	@echo "  curl http://$(HOST):$(PORT)/health"
	@echo "  curl http://$(HOST):$(PORT)/ready"
	@echo "  make psql    a psql shell on the same database"
	@echo ""
	DATABASE_URL='$(GATEWAY_URL)' $(GATEWAY) --hostname $(HOST) --port $(PORT)

# Every test, from a fresh throw-away database. Exits non-zero if anything failed.
test: db-start
	swift build --build-tests
	@$(DB) recreate-db analytics_test
	$(MIGRATOR) up --database-url '$(TEST_URL)'
	psql '$(TEST_URL)' -X -q -v ON_ERROR_STOP=1 -f Tests/fixtures/gateway_routes.sql
	$(MAKE) --no-print-directory test-sql test-swift

test-sql:
	psql '$(TEST_URL)' -X -q -v ON_ERROR_STOP=1 -f Tests/sql/support/helpers.sql
	PSQL_URL='$(TEST_URL)' pg_prove --psql-bin scripts/psql-url --failures Tests/sql/*.sql

test-swift:
	TEST_DATABASE_URL='$(TEST_URL)' TEST_GATEWAY_DATABASE_URL='$(TEST_GATEWAY_URL)' swift test --skip-build

psql: db-start
	psql '$(APP_URL)'

clean:
	-@$(DB) stop 2>/dev/null
	rm -rf .pgdata .run

distclean: clean
	rm -rf .build .build-* .swiftpm
