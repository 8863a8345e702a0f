/* history.js - placeholder */
