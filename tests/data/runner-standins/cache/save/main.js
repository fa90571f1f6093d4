"use strict";
const lib = require("../lib");
try { lib.save(lib.input("key")); } catch (e) { console.log(`::error::${e.message}`); process.exit(1); }
