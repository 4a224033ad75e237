// Runs the CLI from source (node --import tsx test/run-cli.ts ...), for tests that need
// relay6 as a separate process, e.g. inside a network namespace.
import { main } from "../src/cli/main.js";

process.exit(await main(process.argv));
