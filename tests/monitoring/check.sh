#!/bin/bash
# Checks of the monitoring assets in tools/monitoring/:
#   - promtool accepts the alert rules, and their unit tests pass
#     (tests/monitoring/alerts_test.yml);
#   - the Grafana dashboard is valid JSON with the expected variables, every
#     panel has a query on the $datasource, and every query parses as PromQL;
#   - every xlb_* name in either file is a metric family xlbd exposes.
# Exit 0 pass, 1 fail, 77 skipped (promtool or jq missing).
set -u

HERE=${0%/*}
[ "$HERE" != "$0" ] || HERE=.
cd "$HERE/../.." || exit 1
RULES=tools/monitoring/xlb-alerts.yml
DASH=tools/monitoring/xlb-dashboard.json
TESTS=tests/monitoring/alerts_test.yml

for tool in promtool jq; do
	command -v "$tool" >/dev/null || { echo "test-monitoring: skipped, no $tool"; exit 77; }
done

TMP=$(mktemp -d /tmp/xlb-monitoring.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0

# check NAME COMMAND...: run a check, its output shown only when it fails.
check() {
	local name=$1
	shift
	if "$@" >"$TMP/out" 2>&1; then
		PASS=$((PASS + 1))
		printf '  ok    %s\n' "$name"
	else
		FAIL=$((FAIL + 1))
		printf '  FAIL  %s\n' "$name"
		sed 's/^/        /' "$TMP/out"
	fi
}

# The metric families of xlbd (user/xlbd/metrics_text.c, README "Metrics").
METRICS="
xlb_build_info xlb_agent_start_time_seconds
xlb_vip_packets_total xlb_vip_bytes_total xlb_vip_new_flows_total
xlb_no_healthy_backend_packets_total
xlb_vip_backends xlb_vip_usable_backends xlb_vip_panic
xlb_backend_packets_total xlb_backend_bytes_total
xlb_backend_syn_total xlb_backend_syn_retransmits_total xlb_backend_syn_rerouted_total
xlb_backend_up xlb_backend_admin_state xlb_backend_state
xlb_backend_weight xlb_backend_effective_weight
xlb_backend_flows xlb_flows
xlb_flow_table_entries xlb_flow_table_used xlb_flow_table_lookups_total
xlb_flow_table_evictions_total
xlb_backend_health_changes_total
xlb_drop_packets_total xlb_packet_events_total
xlb_healthcheck_results_total xlb_healthcheck_duration_seconds
xlb_table_updates_total xlb_table_update_duration_seconds
xlb_config_reloads_total xlb_config_last_reload_success_timestamp_seconds
xlb_config_digest
xlb_vip_announced
xlb_vip_handover_slots
xlb_maintenance
xlb_backend_ejected xlb_backend_ejections_total
xlb_metrics_snapshot_seconds xlb_metrics_wait_seconds xlb_metrics_render_seconds
"
HISTOGRAMS="xlb_healthcheck_duration_seconds xlb_table_update_duration_seconds"

in_list() { # in_list WORD LIST
	local w
	for w in $2; do [ "$w" = "$1" ] && return 0; done
	return 1
}

# known_metrics FILE: every xlb_* name in FILE (expressions, and the text
# around them) is a family above, or a histogram's _bucket/_sum/_count.
known_metrics() {
	local name base bad=0 n=0
	while read -r name; do
		n=$((n + 1))
		in_list "$name" "$METRICS" && continue
		base=${name%_bucket}
		base=${base%_sum}
		base=${base%_count}
		[ "$base" != "$name" ] && in_list "$base" "$HISTOGRAMS" && continue
		echo "unknown metric: $name"
		bad=1
	done < <(grep -oE 'xlb_[A-Za-z0-9_]+' "$1" | sort -u)
	[ $n -gt 0 ] || { echo "no xlb_* metric found in $1"; bad=1; }
	return $bad
}

# Panels, those inside collapsed rows included, rows themselves excluded.
PANELS='[.panels[] | if .type == "row" then (.panels // [])[] else . end]'

dash_parses() { jq -e 'type == "object" and (.panels | length > 0)' "$DASH" >/dev/null; }

dash_variables() {
	jq -e '
	  (.schemaVersion >= 36) and
	  ([.templating.list[] | select(.name == "datasource" and .type == "datasource"
	     and .query == "prometheus")] | length == 1) and
	  ([.templating.list[] | select(.name == "vip" and .type == "query" and .multi and .includeAll
	     and ((.query | if type == "object" then .query else . end)
	          == "label_values(xlb_vip_packets_total, vip)"))] | length == 1)
	' "$DASH" >/dev/null || {
		echo "want schemaVersion >= 36, a datasource variable \"datasource\" (prometheus) and a"
		echo "multi-value query variable \"vip\" with All on label_values(xlb_vip_packets_total, vip)"
		return 1
	}
}

# Every panel has a query, and every panel and query uses the variable.
dash_targets() {
	jq -r "$PANELS"' | .[] |
	  select((.targets // []) | map(select((.expr // "") != "")) | length == 0)
	  | "panel \(.id) \"\(.title)\": no target with an expression"' "$DASH" >"$TMP/bad"
	jq -r "$PANELS"' | .[] | . as $p | ([$p.datasource] + [($p.targets // [])[].datasource])[]
	  | select(.uid != "${datasource}")
	  | "panel \($p.id) \"\($p.title)\": datasource \(.)"' "$DASH" >>"$TMP/bad"
	cat "$TMP/bad"
	[ ! -s "$TMP/bad" ]
}

# Every expression of the dashboard (panels, variables, annotations) made a
# recording rule, Grafana's variables replaced: promtool parses them all.
dash_promql() {
	jq '{groups: [{name: "dashboard", rules: [
	      [.. | objects | select(has("expr")) | .expr | strings | select(. != "")]
	      | to_entries[]
	      | {record: "dashboard:expr_\(.key)",
	         expr: (.value | gsub("\\$__(rate_interval|interval|range)"; "5m")
	                       | gsub("\\$\\{?[A-Za-z_]+\\}?"; ".*"))}]}]}' \
		"$DASH" >"$TMP/dash-rules.json" &&
		promtool check rules "$TMP/dash-rules.json"
}

check "promtool check rules" promtool check rules "$RULES"
check "alert rules use only xlbd's metrics" known_metrics "$RULES"
check "promtool test rules (alerts_test.yml)" promtool test rules "$TESTS"
check "dashboard is valid JSON" dash_parses
check "dashboard variables (datasource, vip)" dash_variables
check "every dashboard panel has a query on \$datasource" dash_targets
check "dashboard queries are valid PromQL" dash_promql
check "dashboard uses only xlbd's metrics" known_metrics "$DASH"

echo "test-monitoring: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
