"use strict";
try { require("./lib").restore(); } catch (e) { console.log(`::error::${e.message}`); process.exit(1); }
