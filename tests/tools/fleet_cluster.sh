# fleet_cluster.sh - a 3-node NATS JetStream cluster on the loopback of a
# network namespace (sourced by test_fleet.sh and bench/fleet.sh).
# The caller sets: out (a directory for the nodes' files), ns (the
# namespace, made by the caller) and fleet_users (sensor ids that get a NATS
# user each, besides the operator op).

urls() { # urls USER: the cluster's three servers, as USER (password USER-pw)
    echo "nats://$1:$1-pw@127.0.0.1:4222,nats://$1:$1-pw@127.0.0.1:4223,nats://$1:$1-pw@127.0.0.1:4224"
}

# One NATS user per sensor: it publishes under its own id only (and answers
# the requests it receives: allow_responses), subscribes to its own extract
# subject and to its own inboxes (JetStream's acknowledgements: fcap gives a
# sensor's connection the inbox prefix _INBOX.ID).
sensor_user() { # sensor_user ID
    cat <<USER
    { user: $1, password: $1-pw, permissions: {
        publish: { allow: [ "fcap.$1.>" ] },
        subscribe: { allow: [ "fcap.$1.extract", "_INBOX.$1.>" ] },
        allow_responses: { max: 100000, expires: "5m" } } }
USER
}

start_node() { # start_node I
    cat >"$out/n$1.conf" <<CONF
server_name: n$1
listen: 127.0.0.1:$((4221 + $1))
jetstream { store_dir: "$out/n$1" }
cluster {
  name: fcap
  listen: 127.0.0.1:$((6221 + $1))
  routes: [ nats-route://127.0.0.1:6222, nats-route://127.0.0.1:6223, nats-route://127.0.0.1:6224 ]
}
authorization {
  users = [
    { user: op, password: op-pw }
$(for s in ${fleet_users:-}; do sensor_user "$s"; done)
  ]
}
CONF
    ip netns exec "$ns" nats-server -c "$out/n$1.conf" >>"$out/n$1.log" 2>&1 &
    echo $! >"$out/n$1.pid"
}

kill_node() { # kill_node I [SIGNAL]
    kill "-${2:-TERM}" "$(cat "$out/n$1.pid")"
    while kill -0 "$(cat "$out/n$1.pid")" 2>/dev/null; do sleep 0.1; done
    rm -f "$out/n$1.pid"
}

stop_nodes() { # every node still running (cleanup)
    for i in 1 2 3; do
        [ -f "$out/n$i.pid" ] && kill "$(cat "$out/n$i.pid")" 2>/dev/null
    done
}
