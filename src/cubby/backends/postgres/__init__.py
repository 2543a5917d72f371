"""The PostgreSQL metadata backend (asyncpg). Import only when asyncpg is installed."""
