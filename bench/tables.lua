-- Hash-heavy work: word counting, set operations, sorting with a comparator,
-- array insert/remove.
-- usage: lua tables.lua N
local N = tonumber(arg and arg[1]) or 200000
local seed = 7
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return (seed // 65536) % n
end

local counts = {}
for _ = 1, N do
  local k = "k" .. rand(5000)
  counts[k] = (counts[k] or 0) + 1
end
local keys = {}
for k in pairs(counts) do keys[#keys + 1] = k end
table.sort(keys, function(a, b)
  local ca, cb = counts[a], counts[b]
  if ca ~= cb then return ca > cb end
  return a < b
end)

-- Integer-keyed hash (sparse) and array parts.
local sparse = {}
for i = 1, N do sparse[rand(1 << 20) * 7] = i end
local sum = 0
for k, v in pairs(sparse) do sum = (sum + k * v) % 1000000007 end

local arr = {}
for i = 1, N // 4 do arr[i] = rand(1000) end
table.sort(arr)
for _ = 1, 300 do
  table.insert(arr, rand(#arr) + 1, rand(1000))
  table.remove(arr, rand(#arr) + 1)
end

-- Set intersection via tables.
local a, b = {}, {}
for _ = 1, N // 2 do a[rand(100000)] = true; b[rand(100000)] = true end
local both = 0
for k in pairs(a) do if b[k] then both = both + 1 end end

print(keys[1], counts[keys[1]], #keys, sum, arr[#arr // 2], both)
