# The local node of a fleet described in one place; nodes.json adds the others.
datacenter = "dc1"
node_name  = "edge-1"
node_meta {
  rack = "r1"
}
