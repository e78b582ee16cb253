#!/usr/bin/env bash
# Start a single-node SLURM cluster (Debian 12, slurm-wlm 22.05) on localhost, for CI and for trying
# the SLURM profile on one machine. A measured recipe for a one-node cluster.
#
#   sudo bash .ci/slurm-up.sh      # ~25-30 s on a bare machine (apt + MariaDB init), ~1 s if already up
#   bash .ci/slurm-down.sh         # stops exactly the daemons this script started
#
# Idempotent: installs missing Debian packages, (re)writes the configs, starts only the daemons that
# are not running, and waits (bounded by SLURM_CI_WAIT_S per step) until the node accepts jobs.
# Every daemon it starts is recorded in /run/slurm-ci/started; slurm-down.sh stops those and nothing
# else. It refuses to touch a machine whose /etc/slurm/slurm.conf it did not write (a real cluster).
#
# Environment:
#   SLURM_CI_ACCOUNTING=slurmdbd (default) munged + mariadbd + slurmdbd + slurmctld + slurmd: sacct works
#                                          (the Snakemake plugin's default status command needs it),
#                                          account "ci" exists for root.
#   SLURM_CI_ACCOUNTING=none               munged + slurmctld + slurmd only; then the profile must use
#                                          `slurm-status-command: squeue` (sacct would hang Snakemake).
#   SLURM_CI_CGROUP=auto (default) | 1 | 0 memory/CPU enforcement through cgroup v1 (jobs over --mem end
#                                          OUT_OF_MEMORY, as on a real cluster). auto = on when the cgroup v1
#                                          memory controller is mounted.
#   SLURM_CI_WAIT_S=60                     bound on each wait (munge, DB, daemons, node idle).
#   SLURM_CI_FORCE=1                       overwrite a slurm.conf that this script did not write.
set -euo pipefail

ACCOUNTING="${SLURM_CI_ACCOUNTING:-slurmdbd}"
CGROUP="${SLURM_CI_CGROUP:-auto}"
WAIT_S="${SLURM_CI_WAIT_S:-60}"
HEADER="# single-node CI cluster, written by spurious-rewards .ci/slurm-up.sh"
ST=/var/spool/slurm-ci          # slurmctld/slurmd state
RUN=/run/slurm-ci               # pid files + the list of daemons this script started
LOG=/var/log/slurm-ci           # daemon logs
DB=/var/lib/slurm-ci/mysql      # MariaDB datadir (slurmdbd mode only)
DBRUN=/run/slurm-ci-mysql       # MariaDB socket + pid
DBPASS=slurmci                  # local-only DB password (MariaDB listens on 127.0.0.1 only)
T0=$SECONDS

log() { echo "[slurm-up] $*"; }
die() { echo "[slurm-up] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (installs packages, starts daemons)"
case "$ACCOUNTING" in slurmdbd|none) ;; *) die "SLURM_CI_ACCOUNTING must be slurmdbd or none" ;; esac
if [ "$CGROUP" = auto ]; then
  if [ -d /sys/fs/cgroup/memory ] && grep -q ' /sys/fs/cgroup/memory cgroup ' /proc/mounts; then CGROUP=1; else CGROUP=0; fi
fi
if [ -s /etc/slurm/slurm.conf ] && ! head -n1 /etc/slurm/slurm.conf | grep -qxF "$HEADER" \
   && [ "${SLURM_CI_FORCE:-0}" != 1 ]; then
  die "/etc/slurm/slurm.conf was not written by this script (a real cluster?); set SLURM_CI_FORCE=1 to overwrite"
fi

# alive PIDFILE COMM -> 0 if the pid in PIDFILE is alive and is COMM
alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

wait_for() {  # wait_for DESCRIPTION CMD...   (bounded by WAIT_S)
  local what=$1; shift
  local t0=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - t0 >= WAIT_S )); then
      log "TIMEOUT after ${WAIT_S}s waiting for: $what (logs: $LOG)"; return 1
    fi
    sleep 0.5
  done
  log "$what: ok after $((SECONDS - t0))s"
}

started() {  # started PIDFILE COMM: remember that we started it (read by slurm-down.sh)
  grep -qxF "$1 $2" "$RUN/started" 2>/dev/null || echo "$1 $2" >> "$RUN/started"
}

stop_pid() {  # stop_pid PIDFILE COMM (bounded wait)
  alive "$1" "$2" || return 0
  local pid; pid=$(cat "$1"); kill "$pid"
  local t0=$SECONDS
  while [ -d "/proc/$pid" ] && (( SECONDS - t0 < WAIT_S )); do sleep 0.2; done
  if [ -d "/proc/$pid" ]; then kill -9 "$pid"; fi
  rm -f "$1"
}

# ---- packages ---------------------------------------------------------------
pkgs=(munge slurmctld slurmd slurm-client)
[ "$ACCOUNTING" = slurmdbd ] && pkgs+=(slurmdbd mariadb-server)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  timeout 600 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p /etc/slurm "$ST/ctld" "$ST/d" "$RUN" "$LOG"
touch "$RUN/started"

# ---- munge --------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key; chmod 600 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
if ! alive /run/munge/munged.pid munged; then
  log "starting munged"
  runuser -u munge -- /usr/sbin/munged        # forks; pid -> /run/munge/munged.pid
  started /run/munge/munged.pid munged
fi
wait_for "munge round-trip" bash -c 'munge -n | unmunge'

# ---- slurm.conf -------------------------------------------------------------
CPUS=$(nproc)
MEM=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
if [ "$ACCOUNTING" = slurmdbd ]; then
  ACCT_LINES="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819"
else
  ACCT_LINES="AccountingStorageType=accounting_storage/none"
fi
if [ "$CGROUP" = 1 ]; then
  PROCTRACK=proctrack/cgroup; TASKPLUGIN=task/cgroup,task/affinity
  cat > /etc/slurm/cgroup.conf <<CONF
CgroupPlugin=autodetect
ConstrainCores=yes
ConstrainRAMSpace=yes
CONF
else
  PROCTRACK=proctrack/linuxproc; TASKPLUGIN=task/none
fi
NEWCONF=$(mktemp)
# KillWait=10: a job over its time limit gets SIGTERM, then SIGKILL 10 s later (default 30 s).
cat > "$NEWCONF" <<CONF
$HEADER
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
CommunicationParameters=NoInAddrAny
MpiDefault=none
MailProg=/bin/true
ProctrackType=$PROCTRACK
TaskPlugin=$TASKPLUGIN
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=300
KillWait=10
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$ST/ctld
SlurmdSpoolDir=$ST/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
$ACCT_LINES
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
if ! cmp -s "$NEWCONF" /etc/slurm/slurm.conf; then
  CONF_CHANGED=1
  install -m 0644 "$NEWCONF" /etc/slurm/slurm.conf
else
  CONF_CHANGED=0
fi
rm -f "$NEWCONF"

# ---- accounting: MariaDB + slurmdbd ------------------------------------------
if [ "$ACCOUNTING" = slurmdbd ]; then
  if [ ! -d "$DB/mysql" ]; then
    log "initialising MariaDB datadir $DB"
    mkdir -p "$(dirname "$DB")"
    mariadb-install-db --user=mysql --datadir="$DB" --auth-root-authentication-method=socket \
      --skip-test-db >"$LOG/mariadb-install.log" 2>&1
  fi
  install -d -o mysql -g mysql "$DBRUN"
  if ! alive "$DBRUN/mysqld.pid" mariadbd; then
    log "starting mariadbd"
    nohup /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$DB" \
      --socket="$DBRUN/mysqld.sock" --pid-file="$DBRUN/mysqld.pid" \
      --bind-address=127.0.0.1 --port=3306 --log-error="$LOG/mariadb.log" \
      --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900 \
      >/dev/null 2>&1 </dev/null &
    started "$DBRUN/mysqld.pid" mariadbd
  fi
  wait_for "mariadb socket" mariadb --socket="$DBRUN/mysqld.sock" -e 'select 1'
  mariadb --socket="$DBRUN/mysqld.sock" <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DBPASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL
  NEWDBD=$(mktemp)
  cat > "$NEWDBD" <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3306
StorageUser=slurm
StoragePass=$DBPASS
StorageLoc=slurm_acct_db
CONF
  cmp -s "$NEWDBD" /etc/slurm/slurmdbd.conf || install -m 0600 "$NEWDBD" /etc/slurm/slurmdbd.conf
  rm -f "$NEWDBD"
  chmod 600 /etc/slurm/slurmdbd.conf     # slurmdbd refuses a group/world-readable file
  if ! alive "$RUN/slurmdbd.pid" slurmdbd; then
    log "starting slurmdbd"
    slurmdbd                              # forks; pid -> $RUN/slurmdbd.pid
    started "$RUN/slurmdbd.pid" slurmdbd
  fi
  wait_for "slurmdbd (sacctmgr)" sacctmgr -n list cluster
fi

# ---- slurmctld + slurmd -----------------------------------------------------
if [ "$CONF_CHANGED" = 1 ]; then
  if alive "$RUN/slurmctld.pid" slurmctld || alive "$RUN/slurmd.pid" slurmd; then
    log "slurm.conf changed: restarting slurmctld/slurmd"
  fi
  stop_pid "$RUN/slurmd.pid" slurmd
  stop_pid "$RUN/slurmctld.pid" slurmctld
fi
if ! alive "$RUN/slurmctld.pid" slurmctld; then
  log "starting slurmctld"
  slurmctld                               # forks; pid -> $RUN/slurmctld.pid
  started "$RUN/slurmctld.pid" slurmctld
fi
wait_for "slurmctld (scontrol ping)" bash -c 'scontrol ping | grep -q UP'
if ! alive "$RUN/slurmd.pid" slurmd; then
  log "starting slurmd"
  slurmd -N localhost                     # this host acts as node "localhost"
  started "$RUN/slurmd.pid" slurmd
fi

node_idle() {
  local s
  s=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
  case "$s" in
    idle|mix|alloc) return 0 ;;
    drain*|down*|drng) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true; return 1 ;;
    *) return 1 ;;
  esac
}
wait_for "node localhost idle" node_idle

if [ "$ACCOUNTING" = slurmdbd ]; then
  # slurmctld registers the cluster row itself; add account "ci" and put root in it
  wait_for "cluster 'ci' registered" bash -c 'sacctmgr -n -P list cluster format=cluster | grep -qx ci'
  sacctmgr -n -P list account format=account | grep -qx ci || \
    sacctmgr -i add account ci Cluster=ci Description=ci Organization=ci >/dev/null
  sacctmgr -n -P list assoc user=root account=ci format=user | grep -qx root || \
    sacctmgr -i add user root Account=ci >/dev/null
fi

timeout "$WAIT_S" srun -t 1 true || die "smoke job (srun true) failed; see $LOG"
log "cluster up in $((SECONDS - T0))s (accounting=$ACCOUNTING, cgroup=$CGROUP): $(sinfo -h -o '%P %a %D %t %N')"
