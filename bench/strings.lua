-- String building and scanning: concatenation, string.format, gsub, find,
-- byte/char, table.concat.
-- usage: lua strings.lua N
local N = tonumber(arg and arg[1]) or 20000
local seed = 42
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return (seed // 65536) % n
end
local syll = { "ka", "lo", "mi", "ne", "tu", "ra", "si", "po", "de", "fa", "gu", "he" }
local function word()
  local parts = {}
  for i = 1, 1 + rand(3) do parts[i] = syll[rand(#syll) + 1] end
  return table.concat(parts)
end

local lines = {}
for i = 1, N do
  lines[i] = string.format("%d,%s,%s,%d;", rand(100000), word(), word(), rand(1000) - 500)
end
local text = table.concat(lines, "\n")

-- Parse it back with patterns.
local total, nwords = 0, 0
for a, w1, w2, b in text:gmatch("(%d+),(%a+),(%a+),(%-?%d+);") do
  total = total + tonumber(a) - tonumber(b)
  nwords = nwords + #w1 + #w2
end

-- Byte-level scanning and rebuilding.
local upper = {}
for i = 1, #lines, 3 do
  local s = lines[i]
  local out = {}
  for j = 1, #s do
    local c = s:byte(j)
    if c >= 97 and c <= 122 then c = c - 32 end
    out[j] = string.char(c)
  end
  upper[#upper + 1] = table.concat(out)
end

-- gsub with a function and a repeated find.
local replaced = text:sub(1, 200000):gsub("(%a+)", function(w) return #w > 4 and w:upper() or w end)
local count, pos = 0, 1
while true do
  local s, e = text:find("kalo", pos, true)
  if not s then break end
  count = count + 1
  pos = e + 1
end
-- Naive string accumulation, the way scripts often do it.
local acc = ""
for i = 1, N // 10 do acc = acc .. tostring(i % 10) end

print(total, nwords, #upper, #replaced, count, #acc)
