// How a service's server is started where it runs (a SLURM job's node, or this
// host): a small bash wrapper that chooses the port, starts the server, and
// writes the endpoint file the controller reads: at once with where it will
// answer, then again once the port is seen to be held by the server itself.
//
// Why the second write, and not a token the server echoes: vLLM, Ollama,
// PostgreSQL... cannot be made to answer with a token of ours, so a probe over
// the network can never tell our server from another one on the same port (a
// neighbour's job on a shared node, or one that took the port first). The node
// can: the kernel lists each listening socket (/proc/net/tcp, tcp6) and which
// process holds it (/proc/PID/fd). The wrapper confirms that every socket
// listening on the port belongs to the server or a process it started, and
// only then records the listener's pid; while the server holds the port the
// kernel lets no other user's process listen on it, so the controller's probes
// reach that server. The record also says which launch wrote it (launch id,
// SLURM job id, the wrapper's pid): that is the per-launch token, issued by
// SLURM and the kernel, which the controller compares with its launch record
// (kept across its restarts, where a random token would need storing too), so
// a file left by an earlier job in the same folder is never taken for it.
// Only bash, awk, find and (for an interface address) `ip` are needed: what
// every compute node has, where Node.js may not be.
import type { ServeContext } from './catalog.js';

/** How args and env values refer to the port: the wrapper exports AIFB_PORT, the port it chose (or was given), and puts it in their place. */
export const PORT_REF = '${AIFB_PORT}';

/** Ports as they go into a server's arguments and environment when the job chooses them: references the wrapper replaces. */
export const JOB_PORTS: Pick<ServeContext, 'port' | 'portAbove'> = {
  port: PORT_REF,
  portAbove: (offset) => `\${AIFB_PORT_${offset}}`,
};

/** Where the endpoint file says the service answers: an address the controller already knows, the node's name, or an interface's IPv4 address. */
export type EndpointHost = { address: string } | 'hostname' | { interface: string };

export interface ServeOptions {
  /** The port the user pinned (spec.port); without one the job chooses a free port. */
  port?: number;
  /** Consecutive ports the server takes from its port up (Triton: HTTP, gRPC, metrics). */
  ports: number;
  endpointFile: string;
  host: EndpointHost;
  launchId: string;
  /** Variables a --cleanenv container is to see from where it starts (see the loop over AIFB_PASS_ENV). */
  passEnv?: readonly string[];
}

/**
 * Bash: \`sockets_on PORT\` prints "state inode" of every TCP socket whose local
 * port is PORT (state 0A is LISTEN); the stack's script asks the same way.
 */
export const SOCKETS_ON = `# "state inode" of every socket whose local port is $1.
sockets_on() {
  local hex; printf -v hex ':%04X' "$1"
  awk -v h="$hex" 'FNR > 1 && substr($2, length($2) - 4) == h { print $4, $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}`;

// A template literal: \${ is bash's own ${, \\ a backslash.
const SCRIPT = `# aifb-serve: chooses the port, starts the server, writes where it answers.
set -uo pipefail
say() { printf 'aifb-serve: %s\\n' "$*" >&2; }
ports=\${AIFB_PORTS:-1}
${SOCKETS_ON}
# A port chosen at random must have no socket at all (a client's ephemeral port may be on it);
# a pinned one needs only no listener: a relaunch's own old connections (TIME_WAIT,
# FIN_WAIT2) linger for a minute and do not stop a server binding it. A client's do: when
# the server ends before it listened, see others_on below.
free_from() { local p; for ((p = $1; p < $1 + ports; p++)); do [ -z "$(sockets_on "$p")" ] || return 1; done; }
unheard_from() { local p; for ((p = $1; p < $1 + ports; p++)); do [ -z "$(sockets_on "$p" | awk '$1 == "0A"')" ] || return 1; done; }
pinned=1
AIFB_PORT_WAIT=\${AIFB_PORT_WAIT:-65}
read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range
if [ "$AIFB_PORT" = free ]; then
  pinned=0
  for ((try = 0; try < 100; try++)); do
    p=$((lo + ((RANDOM << 15) | RANDOM) % (hi - lo - ports + 2)))
    if free_from "$p"; then AIFB_PORT=$p; break; fi
  done
  [ "$AIFB_PORT" != free ] || { say "found no free port in $lo-$hi on $(hostname) after 100 tries"; exit 75; }
elif ! unheard_from "$AIFB_PORT"; then
  say "port $AIFB_PORT (spec.port) is already in use on $(hostname) by another process; remove spec.port so that the job chooses a free port"
  exit 75
fi
export AIFB_PORT
for ((i = 1; i < ports; i++)); do export "AIFB_PORT_$i=$((AIFB_PORT + i))"; done
case $AIFB_ENDPOINT_HOST in
  hostname) host=$(hostname) ;;
  interface:*)
    iface=\${AIFB_ENDPOINT_HOST#interface:}
    host=$(ip -4 -o addr show dev "$iface" 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
    [ -n "$host" ] || { say "interface $iface has no IPv4 address on $(hostname) (ip -4 addr show dev $iface); set spec.slurm.interface to one every node has"; exit 78; } ;;
  *) host=$AIFB_ENDPOINT_HOST ;;
esac
endpoint() {
  printf '{"host":"%s","port":%s,"launchId":"%s","pid":%s%s%s}\\n' "$host" "$AIFB_PORT" "$AIFB_LAUNCH_ID" "$$" \\
    "\${SLURM_JOB_ID:+,\\"jobId\\":\\"$SLURM_JOB_ID\\"}" "$1" > "$AIFB_ENDPOINT_FILE.tmp" && mv -f "$AIFB_ENDPOINT_FILE.tmp" "$AIFB_ENDPOINT_FILE"
}
# The port references in the environment and the arguments become the port.
with_ports() {
  local i; REPLY=\${1//'\${AIFB_PORT}'/$AIFB_PORT}
  for ((i = 1; i < ports; i++)); do REPLY=\${REPLY//"\\\${AIFB_PORT_$i}"/$((AIFB_PORT + i))}; done
}
for name in $(compgen -e); do
  [[ \${!name} == *'\${AIFB_PORT'* ]] || continue
  with_ports "\${!name}"; export "$name=$REPLY"
done
# A container started with --cleanenv sees only APPTAINERENV_<NAME> of this environment as <NAME>:
# the names in AIFB_PASS_ENV are copied there where set here (on the node: SLURM's GPU
# selection, ...), unless the launch gave that variable a value of its own.
for name in \${AIFB_PASS_ENV:-}; do
  pass=APPTAINERENV_$name
  if [ -n "\${!name+set}" ] && [ -z "\${!pass+set}" ]; then export "$pass=\${!name}"; fi
done
args=()
for a in "$@"; do with_ports "$a"; args+=("$REPLY"); done
endpoint ''
start() { "\${args[@]}" & server=$!; }
start
trap 'kill -TERM $server 2>/dev/null; wait $server; exit 143' TERM INT
alive() { local s; read -r s 2>/dev/null < "/proc/$1/stat" || return 1; s=\${s##*) }; [ "\${s%% *}" != Z ]; }
# TREE: the server and every process it started, from the parent pid in /proc/PID/stat.
tree() {
  local -A kids=(); local f s pid queue
  for f in /proc/[0-9]*/stat; do
    read -r s 2>/dev/null < "$f" || continue
    s=\${s##*) }; s=\${s#* }; pid=\${f#/proc/}; kids[\${s%% *}]+=" \${pid%/stat}"
  done
  TREE=''; queue=$server
  while [[ $queue == *[0-9]* ]]; do set -- $queue; pid=$1; shift; TREE+=" $pid"; queue="$* \${kids[$pid]:-}"; done
}
holder() { local pid; for pid in $TREE; do [ -z "$(find "/proc/$pid/fd" -maxdepth 1 -lname "socket:\\[$1\\]" -print -quit 2>/dev/null)" ] || { echo "$pid"; return; }; done; }
# Sockets that do not listen on a pinned port in the range the kernel takes clients' ports from:
# a client's connection on it, and its TIME_WAIT for a minute after it closed, keep a server
# from binding the port. (A server's own old connections, accepted on it, do not: outside the
# range, sockets on the port are those, and nothing is waited for.)
others_on() {
  [ "$pinned" = 1 ] && ((AIFB_PORT + ports > lo && AIFB_PORT <= hi)) || return 0
  local p; for ((p = AIFB_PORT; p < AIFB_PORT + ports; p++)); do sockets_on "$p"; done | awk '$1 != "0A"'
}
waited=0
foreign=0
while :; do
  if ! alive "$server"; then
    wait "$server"; rc=$?
    if [ "$waited" = 0 ] && [ -n "$(others_on)" ]; then
      waited=1
      say "the server ended (exit $rc) before it listened on port $AIFB_PORT, which connections of other processes hold; waiting up to \${AIFB_PORT_WAIT}s for them to end, then starting it once more"
      for ((w = 0; w < AIFB_PORT_WAIT * 2; w++)); do [ -n "$(others_on)" ] || break; sleep 0.5; done
      if [ -z "$(others_on)" ]; then start; continue; fi
    fi
    say "the server ended (exit $rc) before it listened on port $AIFB_PORT"
    if [ -n "$(others_on)" ]; then
      say "connections of other processes still hold port $AIFB_PORT: it lies in $(hostname)'s range for clients' ports ($lo-$hi, /proc/sys/net/ipv4/ip_local_port_range), from which any connection can take it; set spec.port outside that range, or remove spec.port so that the job chooses a free port"
    fi
    exit "$rc"
  fi
  listening=$(sockets_on "$AIFB_PORT" | awk '$1 == "0A" { print $2 }')
  if [ -n "$listening" ]; then
    tree; owner=''; theirs=''
    for inode in $listening; do pid=$(holder "$inode"); if [ -n "$pid" ]; then owner=$pid; else theirs=$inode; fi; done
    [ -n "$theirs" ] || { endpoint ",\\"listenerPid\\":$owner"; break; }
    # Seen twice more, half a second apart: a socket listed before its holder shows in /proc is not yet a stranger's.
    if ((++foreign >= 3)); then
      say "port $AIFB_PORT on $host is held by a process that is not this job's server; stopping, so that the next attempt chooses another port"
      kill -TERM "$server"; wait "$server"; exit 75
    fi
  else
    foreign=0
  fi
  sleep 0.5
done
wait "$server"
`;

/** Names only: the wrapper splits the list at spaces, so anything else would be words of the shell's choosing. */
function passEnvValue(names: readonly string[]): string {
  const bad = names.find((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  if (bad !== undefined) throw new Error(`spec.passEnv: ${JSON.stringify(bad)} is not a variable name; use letters, digits and "_", not starting with a digit`);
  return names.join(' ');
}

function hostSetting(host: EndpointHost): string {
  if (host === 'hostname') return 'hostname';
  return 'interface' in host ? `interface:${host.interface}` : host.address;
}

/**
 * The argv that serves `argv` through the wrapper, and the variables that
 * configure it. They are plain environment so that the job script shows them
 * as such (`export AIFB_PORT=free`), and the argv after `aifb-serve` stays the
 * server's own.
 */
export function serveCommand(argv: string[], opts: ServeOptions): { command: string[]; env: Record<string, string> } {
  return {
    command: ['bash', '-c', SCRIPT, 'aifb-serve', ...argv],
    env: {
      AIFB_PORT: opts.port === undefined ? 'free' : String(opts.port),
      ...(opts.ports > 1 ? { AIFB_PORTS: String(opts.ports) } : {}),
      AIFB_ENDPOINT_FILE: opts.endpointFile,
      AIFB_ENDPOINT_HOST: hostSetting(opts.host),
      AIFB_LAUNCH_ID: opts.launchId,
      ...(opts.passEnv && opts.passEnv.length > 0 ? { AIFB_PASS_ENV: passEnvValue(opts.passEnv) } : {}),
    },
  };
}
