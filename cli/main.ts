#!/usr/bin/env node
console.log('tunnelflow');
