#!/usr/bin/env node
// Runs the compiled CLI (npm run build makes dist/).
import "../dist/cli/main.js";
