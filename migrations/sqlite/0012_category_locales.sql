-- A category's English name and description, shown to members who read in English; NULL
-- (none written) shows them the Japanese text.
ALTER TABLE categories ADD COLUMN name_en TEXT;
ALTER TABLE categories ADD COLUMN description_en TEXT;

-- The default categories in English, where a coordinator has not changed them yet.
WITH english (name, description, name_en, description_en) AS (VALUES
    ('治療のこと', '治療や通院、副作用とのつきあい方など、経験を分かち合う場所です。', 'Treatment',
     'A place to share experience of treatment, hospital visits and living with side effects.'),
    ('仕事とお金', '働き方、職場への伝え方、制度やお金のことを話し合う場所です。', 'Work and money',
     'A place to talk about ways of working, telling your workplace, support schemes and money.'),
    ('暮らし', '食事、眠り、気分転換など、毎日の暮らしの工夫を分かち合う場所です。', 'Daily life',
     'A place to share ideas for everyday life: meals, sleep, a change of mood.'),
    ('家族の部屋', 'ご家族どうしで話せる場所です（ご家族とスタッフだけが見られます）。', 'Family room',
     'A place where family members can talk with each other (only family members and staff can see it).'),
    ('雑談', '気軽なおしゃべりの場所です。', 'Chat', 'A place for relaxed conversation.'),
    ('専門家とスタッフ', '専門家とスタッフの連絡用です（メンバーには表示されません）。', 'Experts and staff',
     'For experts and staff to keep in touch (members do not see it).'))
UPDATE categories SET name_en = english.name_en, description_en = english.description_en
FROM english WHERE categories.name = english.name AND categories.description = english.description;
