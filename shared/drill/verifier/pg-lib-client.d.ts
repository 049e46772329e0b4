// pg/lib/client.js, which pg exports (`./lib/*`) but @types/pg does not declare: it is `pg.Client`.
declare module 'pg/lib/client.js' {
  import { Client } from 'pg';
  export default Client;
}
