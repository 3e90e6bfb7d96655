#!/usr/bin/env node
// Placeholder until plugins exist: bundles each plugin package's entry point.
