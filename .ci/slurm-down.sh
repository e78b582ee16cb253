#!/usr/bin/env bash
# Stop the daemons that .ci/slurm-up.sh started, and nothing else: it reads the list slurm-up.sh
# wrote (/run/slurm-ci/started: "PIDFILE COMM" per line) and signals a pid only if /proc/PID/comm
# still names that daemon. Daemons that were running before slurm-up.sh (a real munged, say) are
# not in the list and keep running. Bounded wait: SIGTERM, then SIGKILL after SLURM_CI_WAIT_S.
# State (/var/spool/slurm-ci, /var/lib/slurm-ci) stays; `rm -rf` both (never one) for a clean cluster.
set -uo pipefail
WAIT_S="${SLURM_CI_WAIT_S:-30}"
LIST=/run/slurm-ci/started
[ -s "$LIST" ] || { echo "[slurm-down] nothing to stop ($LIST is empty or missing)"; exit 0; }

stop() {  # stop PIDFILE COMM
  local pf=$1 comm=$2 pid t0
  [ -s "$pf" ] || { echo "[slurm-down] $comm: no pid file"; return 0; }
  pid=$(cat "$pf")
  if [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then
    kill "$pid"; t0=$SECONDS
    while [ -d "/proc/$pid" ] && (( SECONDS - t0 < WAIT_S )); do sleep 0.2; done
    if [ -d "/proc/$pid" ]; then echo "[slurm-down] $comm ($pid) still alive, SIGKILL"; kill -9 "$pid"; fi
    echo "[slurm-down] stopped $comm ($pid)"
  else
    echo "[slurm-down] $comm: pid $pid not running"
  fi
  rm -f "$pf"
}

# reverse dependency order: compute node, controller, accounting, database, auth
for comm in slurmd slurmctld slurmdbd mariadbd munged; do
  while read -r pf c; do
    [ "$c" = "$comm" ] && stop "$pf" "$c"
  done < "$LIST"
done
: > "$LIST"
