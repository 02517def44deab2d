# Writes a SQL workload for the sqlite3 shell: tables of generated orders,
# customers and events, indexes, then joins, aggregates, window functions,
# recursive CTEs, string functions, updates and deletes.
#   awk -v seed=N -v rows=N -v mix=train|eval -f gen_sql.awk
# The two mixes share the schema but differ in data (seed, size) and in the
# queries they run, so a profile of one is not a replay of the other.
# Park-Miller, so every awk writes the same SQL.
function rnd(n) { state = (state * 16807) % 2147483647; return state % n }
function word(   i, n, w) {
	n = 3 + rnd(6); w = ""
	for (i = 0; i < n; i++) w = w substr("etaoinshrdlucmfwypvbgkqjxz", 1 + int(rnd(26) * rnd(26) / 26), 1)
	return w
}
BEGIN {
	state = seed + 1
	ncust = int(rows / 20) + 10
	print "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	print "CREATE TABLE cust(id INTEGER PRIMARY KEY, name TEXT, city TEXT, tier INT);"
	print "CREATE TABLE ord(id INTEGER PRIMARY KEY, cust INT, day INT, amount REAL, item TEXT, qty INT);"
	print "CREATE TABLE ev(ts INT, kind TEXT, payload TEXT);"
	print "BEGIN;"
	for (i = 1; i <= ncust; i++)
		printf "INSERT INTO cust VALUES(%d,'%s %s','%s',%d);\n", i, word(), word(), word(), rnd(5)
	for (i = 1; i <= rows; i++)
		printf "INSERT INTO ord VALUES(%d,%d,%d,%d.%02d,'%s',%d);\n", i, 1 + rnd(ncust), rnd(365), rnd(500), rnd(100), word(), 1 + rnd(9)
	for (i = 1; i <= rows / 2; i++)
		printf "INSERT INTO ev VALUES(%d,'%s','{\"k\":%d,\"v\":\"%s\"}');\n", rnd(1000000), word(), rnd(1000), word()
	print "COMMIT;"
	print "CREATE INDEX ord_cust ON ord(cust);"
	print "CREATE INDEX ev_ts ON ev(ts);"
	if (mix == "train") {
		print "SELECT c.city, count(*), round(sum(o.amount),2) FROM ord o JOIN cust c ON c.id=o.cust GROUP BY c.city ORDER BY 3 DESC LIMIT 20;"
		print "SELECT item, sum(qty) FROM ord WHERE item LIKE 'e%' GROUP BY item ORDER BY 2 DESC, 1 LIMIT 20;"
		print "SELECT day, avg(amount) OVER (ORDER BY day ROWS 6 PRECEDING) FROM (SELECT day, sum(amount) AS amount FROM ord GROUP BY day) LIMIT 400;"
		print "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x<" rows ") SELECT count(*), sum(x%7) FROM n;"
		print "SELECT kind, count(*) FROM ev WHERE ts BETWEEN 1000 AND 900000 GROUP BY kind ORDER BY 2 DESC, 1 LIMIT 10;"
		print "UPDATE ord SET amount=amount*1.1 WHERE qty>5;"
		print "SELECT tier, count(DISTINCT cust), max(amount) FROM ord JOIN cust ON cust.id=ord.cust GROUP BY tier;"
		print "DELETE FROM ev WHERE ts%3=0;"
		print "SELECT upper(substr(payload,1,12)), length(payload) FROM ev ORDER BY ts LIMIT 50;"
	} else {
		print "SELECT c.name, count(*), round(avg(o.amount),2) FROM cust c JOIN ord o ON o.cust=c.id WHERE c.tier>=2 GROUP BY c.id ORDER BY 3 DESC, 1 LIMIT 25;"
		print "SELECT day/30 AS month, item, sum(qty) FROM ord GROUP BY month, item HAVING sum(qty)>20 ORDER BY 1, 3 DESC, 2 LIMIT 60;"
		print "SELECT id, amount, rank() OVER (PARTITION BY cust ORDER BY amount DESC) FROM ord WHERE cust<50 ORDER BY cust, 3, id LIMIT 300;"
		print "SELECT count(*) FROM ord a JOIN ord b ON a.cust=b.cust AND a.day<b.day AND b.day<a.day+3;"
		print "SELECT json_extract(payload,'$.k')%10, count(*) FROM ev GROUP BY 1 ORDER BY 1;"
		print "WITH RECURSIVE f(a,b,n) AS (SELECT 0,1,0 UNION ALL SELECT b,(a+b)%1000003,n+1 FROM f WHERE n<" rows ") SELECT max(a), count(*) FROM f;"
		print "UPDATE cust SET city=replace(city,'e','E') WHERE tier=1;"
		print "SELECT city, group_concat(name, ';') FROM (SELECT city, name FROM cust ORDER BY name) GROUP BY city ORDER BY city LIMIT 15;"
		print "DELETE FROM ord WHERE amount<50;"
		print "SELECT printf('%08.2f %s', sum(amount), min(item)), count(*) FROM ord;"
		print "SELECT kind, min(ts), max(ts) FROM ev GROUP BY kind ORDER BY 1 LIMIT 30;"
	}
}
