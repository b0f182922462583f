// dashboard.js is imported as text (see ../assets.ts), not run on the server.
declare const text: string;
export default text;
